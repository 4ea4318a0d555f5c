"""Fan-out: Broadcaster against its peers, in one run, on the same fake provider.

    python bench/fanout.py [--recipients N] [--workers W] [--sample S] [--scaling] [--rate-limit R]

Same statement, same recipients (N with an email address and a phone number), same local fake
provider (tests/fakes, on 127.0.0.1), measured side by side (shared/BENCHMARKS.md):

1. Broadcaster: a fresh PostgreSQL database, Redis db 15 as broker, W `celery worker -c 2`
   processes; timed from `publish` until every delivery is settled in the database.
2. Apprise at its best: its Twilio and SendGrid plugins, the pause between requests off
   (`request_rate_per_sec = 0`), the targets spread over as many services as its own shared
   thread pool has threads (its concurrent mode: services, not targets, run in parallel).
3. Naive Celery: one task per message (bench/naive_tasks.py), the same W workers.
4. The floor: the same HTTP requests Broadcaster makes (N Twilio posts, ceil(N/1000) SendGrid
   posts of 1000 personalizations), keep-alive httpx, the same processes x threads (W x 2 x 8).

Each result line also gives CPU milliseconds per message by process kind (senders, the fake,
PostgreSQL backends): the machine is small and shared, and this says where the time went.

Apprise and naive Celery run on a sample of min(N, S) recipients when N is larger; their rates
are per message, which is what the ratios compare. The last line is the summary:

    fanout: <n> deliveries in <s> s (<r>/s); vs apprise <x>x; vs naive celery <y>x; of floor <f>%; peak rss <m> MB

--scaling runs only Broadcaster at N = 1k, 10k, 100k (up to --recipients): time and peak RSS per N
(--sms-only: subscribers with a phone number only, one delivery each).
--live-during-bulk publishes to N subscribers, then publishes other incidents' updates while that
fan-out runs: p50/p99 of the time from publish until banner, status page, IVR and X show each one
(bench/live_during_bulk.py).
--languages runs only Broadcaster at N twice: the statement in one language, then with a Spanish
translation and every other subscriber reading Spanish (a provider batch per language, the rows
written with their language); the time of the second against the first.
--rate-limit R runs the fake with a limit of R requests/s, 4 workers with BROADCASTER_TWILIO_RATE=R/second,
20*R SMS (or --recipients), and prints the achieved rate as a percentage of R and the 429 count.

Every wait has a deadline and the whole run an overall one (--timeout); whatever happens, the
workers are stopped, the database dropped and Redis db 15 flushed.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.contenders import run_apprise, run_broadcaster, run_floor, run_naive  # noqa: E402
from bench.rig import POOL, SEND_THREADS, PublishFailed, log  # noqa: E402

SCALING_SIZES = (1_000, 10_000, 100_000)






# --- services: database, broker, workers ---------------------------------------------------








# --- the same recipients and words for everyone ------------------------------------------




# --- 1. Broadcaster ------------------------------------------------------------------------














# --- 2. Apprise ----------------------------------------------------------------------------






# --- 3. Naive Celery -----------------------------------------------------------------------




# --- 4. The floor --------------------------------------------------------------------------






# --- runs ---------------------------------------------------------------------------------


def describe_broadcaster(r: dict) -> str:
    workers = "; ".join(f"w{i} {main:.0f}+[{', '.join(f'{k:.0f}' for k in kids)}]"
                        for i, (main, kids) in enumerate(r["workers_rss"]))
    return (f"broadcaster: N={r['n']}: {r['deliveries']} deliveries ({r['requests']} provider requests) in "
            f"{r['seconds']:.2f} s = {r['rate']:.0f}/s; publish returned after {r['published']:.2f} s; "
            f"peak rss MB per worker main+[pool]: {workers}; publisher {r['publisher_rss']:.0f} MB; "
            + cpu_note(r["cpu"], r["deliveries"]))


def cpu_note(cpu: dict[str, float], messages: int) -> str:
    """CPU per message, by process kind: on a shared 2-core machine this says where the time went."""
    parts = ", ".join(f"{name} {1000 * seconds / messages:.2f}" for name, seconds in cpu.items())
    return f"cpu ms/message: {parts}"


def check(name: str, result: dict) -> None:
    for problem in result["problems"]:
        print(f"  WARNING {name}: {problem}")


def main_comparison(args) -> int:
    from tests.fakes.server import running_fake

    n, w = args.recipients, args.workers
    sample = min(n, args.sample)
    on = f" (sample: {sample} of the {n} recipients; rates are per message)" if sample < n else ""
    with running_fake() as fake:
        log(f"broadcaster: N={n}, {w} workers x {POOL} pool processes x {SEND_THREADS} send threads")
        try:
            ours = run_broadcaster(fake, n, w)
        except PublishFailed as exc:
            print(f"broadcaster: N={n}: FAILED: {exc}")
            print(f"fanout: FAILED at N={n}: {exc}")
            return 1
        print(describe_broadcaster(ours))
        check("broadcaster", ours)
        fields = ours["fields"]

        log(f"apprise: {sample} SMS + {sample} emails")
        theirs = run_apprise(fake, sample, fields)
        print(f"apprise: {theirs['messages']} messages{on} in {theirs['requests']} requests (one per message, new "
              f"connection each; {theirs['threads']} services in its {theirs['threads']}-thread pool, pause off) in "
              f"{theirs['seconds']:.2f} s = {theirs['rate']:.0f}/s; {cpu_note(theirs['cpu'], theirs['messages'])}")
        check("apprise", theirs)

        log(f"naive celery: {2 * sample} tasks on {w} workers x {POOL}")
        naive = run_naive(fake, sample, fields, w)
        print(f"naive celery: {naive['messages']} messages{on}, one task each on {w} workers x -c {POOL} (enqueue "
              f"took {naive['enqueued']:.2f} s), in {naive['seconds']:.2f} s = {naive['rate']:.0f}/s; "
              f"{cpu_note(naive['cpu'], naive['messages'])}")
        check("naive celery", naive)

        processes = w * POOL
        log(f"floor: {n} + {math.ceil(n / 1000)} requests, {processes} processes x {SEND_THREADS} threads")
        floor = run_floor(fake, n, fields, processes, SEND_THREADS)
        print(f"floor: {floor['messages']} messages in {floor['requests']} requests (httpx keep-alive, "
              f"{processes} processes x {SEND_THREADS} threads) in {floor['seconds']:.2f} s = {floor['rate']:.0f}/s; "
              f"{cpu_note(floor['cpu'], floor['messages'])}")
        check("floor", floor)

    print(f"fanout: {ours['deliveries']} deliveries in {ours['seconds']:.1f} s ({ours['rate']:.0f}/s); "
          f"vs apprise {ours['rate'] / theirs['rate']:.1f}x; vs naive celery {ours['rate'] / naive['rate']:.1f}x; "
          f"of floor {100 * ours['rate'] / floor['rate']:.0f}%; peak rss {ours['peak_rss']:.0f} MB")
    problems = ours["problems"] + theirs["problems"] + naive["problems"] + floor["problems"]
    return 1 if problems else 0


def main_languages(args) -> int:
    from tests.fakes.server import running_fake

    n, results = args.recipients, {}
    with running_fake() as fake:
        for bilingual in (False, True):
            log(f"languages: N={n}, {'two languages' if bilingual else 'one language'}")
            try:
                results[bilingual] = run_broadcaster(fake, n, args.workers, bilingual=bilingual)
            except PublishFailed as exc:
                print(f"fanout: FAILED at N={n}: {exc}")
                return 1
            print(describe_broadcaster(results[bilingual]))
            check("broadcaster", results[bilingual])
    one, two = results[False], results[True]
    print(f"languages: N={n}: one language {one['seconds']:.1f} s ({one['rate']:.0f}/s, {one['requests']} requests), "
          f"two {two['seconds']:.1f} s ({two['rate']:.0f}/s, {two['requests']} requests): "
          f"{100 * two['rate'] / one['rate']:.0f}% of the one-language rate")
    return 1 if one["problems"] or two["problems"] else 0


def main_scaling(args) -> int:
    from tests.fakes.server import running_fake

    sizes = [s for s in SCALING_SIZES if s <= args.recipients]
    if args.recipients not in sizes:
        sizes.append(args.recipients)
    rows, failed = [], []
    with running_fake() as fake:
        for n in sizes:
            log(f"scaling: N={n}")
            try:
                r = run_broadcaster(fake, n, args.workers, email=not args.sms_only)
            except PublishFailed as exc:
                print(f"broadcaster: N={n}: FAILED: {exc}")
                failed.append((n, exc))
                continue
            print(describe_broadcaster(r))
            check(f"broadcaster N={n}", r)
            failed += [(n, problem) for problem in r["problems"]]
            rows.append(r)
    for r in rows:
        base = rows[0]
        print(f"scaling: N={r['n']:>6}: {r['deliveries']:>6} deliveries in {r['seconds']:6.1f} s "
              f"({r['rate']:.0f}/s, {1e6 * r['seconds'] / r['deliveries']:.0f} us each; "
              f"x{r['seconds'] / base['seconds']:.1f} time for x{r['deliveries'] / base['deliveries']:.0f} "
              f"deliveries); worker peak rss {r['peak_rss']:.0f} MB; publisher {r['publisher_rss']:.0f} MB")
    for n, why in failed:
        print(f"scaling: N={n:>6}: FAILED: {why}")
    return 1 if failed else 0


def main_rate_limited(args) -> int:
    from collections import Counter
    from email.utils import parsedate_to_datetime

    from tests.fakes.server import running_fake

    limit = args.rate_limit
    n = args.recipients if args.recipients_given else 20 * limit
    workers = 4
    with running_fake(rate_limit=limit) as fake:
        log(f"rate limit {limit}/s: {n} SMS, {workers} workers, BROADCASTER_TWILIO_RATE={limit}/second")
        try:
            r = run_broadcaster(fake, n, workers, email=False, worker_values={"twilio_rate": f"{limit}/second"},
                                timeout=120 + 3 * n / limit)
        except PublishFailed as exc:
            print(f"rate-limited: FAILED: {exc}")
            return 1
        # Accepted messages per second (the fake's per_second counts arrivals, refused ones included).
        accepted = Counter(int(parsedate_to_datetime(m["date_created"]).timestamp()) for m in fake.messages()["sms"])
    print(describe_broadcaster(r))
    check("broadcaster", r)
    received = r["received"]
    seconds = sorted(accepted.items())
    steady = [v for _, v in seconds[1:-1]]  # the first and last second are partial
    achieved = sum(steady) / len(steady) if steady else float("nan")
    arrivals = sorted(received["per_second_by_provider"]["twilio"].items())
    print(f"rate limit: SMS accepted per second over the steady {len(steady)} s: min {min(steady, default=0)}, "
          f"max {max(steady, default=0)}; Twilio requests arriving per second (429s included): max "
          f"{max((v for _, v in arrivals), default=0)}; busiest sliding second: {received['peak_window_1s']['twilio']}")
    print(f"rate-limited: {n} SMS in {r['seconds']:.1f} s; achieved {achieved:.1f}/s = {100 * achieved / limit:.1f}% "
          f"of the {limit}/s limit; 429s: {received['rejected_429']}")
    return 1 if r["problems"] else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=None, help="N (default 100000)")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes (default 2)")
    parser.add_argument("--sample", type=int, default=5000,
                        help="recipients for Apprise and naive Celery when N is larger (default 5000)")
    parser.add_argument("--scaling", action="store_true", help="Broadcaster only, at N = 1k, 10k, 100k")
    parser.add_argument("--sms-only", action="store_true",
                        help="with --scaling: subscribers with a phone number only (N deliveries, not 2N)")
    parser.add_argument("--languages", action="store_true",
                        help="Broadcaster only, at N: one language, then two (half the subscribers in Spanish)")
    parser.add_argument("--rate-limit", type=int, default=None, help="provider limit in requests/s")
    parser.add_argument("--timeout", type=float, default=None, help="stop the whole run after this many seconds")
    parser.add_argument("--live-during-bulk", action="store_true",
                        help="time to the live surfaces of repeated publishes while a fan-out to N runs")
    parser.add_argument("--publishes", type=int, default=20, help="publishes measured by --live-during-bulk")
    parser.add_argument("--public-workers", type=int, default=1,
                        help="processes of the public server --live-during-bulk watches (default 1)")
    args = parser.parse_args()
    args.recipients_given = args.recipients is not None
    args.recipients = args.recipients or 100_000

    budget = args.timeout or 900 + args.recipients * (0.05 if not args.scaling else 0.03)

    def out_of_time(*_):
        raise TimeoutError(f"fanout: the run took longer than {budget:.0f} s; stopped")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("fanout: terminated"))
    signal.alarm(int(budget))
    if args.rate_limit:
        return main_rate_limited(args)
    if args.live_during_bulk:
        from bench.live_during_bulk import main_live_during_bulk

        return main_live_during_bulk(args)
    if args.scaling:
        return main_scaling(args)
    if args.languages:
        return main_languages(args)
    return main_comparison(args)


if __name__ == "__main__":
    sys.exit(main())
