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

--scaling runs only Broadcaster at N = 1k, 10k, 100k (up to --recipients): time and peak RSS per N.
--live-during-bulk publishes to N subscribers, then publishes other incidents' updates while that
fan-out runs: p50/p99 of the time from publish until banner, status page, IVR and X show each one
(bench/live_during_bulk.py).
--rate-limit R runs the fake with a limit of R requests/s, 4 workers with BROADCASTER_TWILIO_RATE=R/second,
20*R SMS (or --recipients), and prints the achieved rate as a percentage of R and the 429 count.

Every wait has a deadline and the whole run an overall one (--timeout); whatever happens, the
workers are stopped, the database dropped and Redis db 15 flushed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Everything stays on loopback: never let a proxy variable route the fake's traffic elsewhere.
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name), "127.0.0.1", "localhost"]))

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "broadcaster_bench"
REDIS_URL = "redis://127.0.0.1:6379/15"
SCALING_SIZES = (1_000, 10_000, 100_000)
LIVE_DELIVERIES = 4  # banner, status page, IVR, X
SEND_THREADS = 8  # Broadcaster's default send_threads, per pool process
POOL = 2  # `celery worker -c 2`


from tests.harness import Workers, add_subscribers, children, email_address, peak_rss_mb, phone_number  # noqa: E402


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- services: database, broker, workers ---------------------------------------------------


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new, migrated `broadcaster_bench` database, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from broadcaster.store.db import engine_for, migrate

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    with admin.connect() as connection:
        connection.execute(drop)
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    url = make_url(ADMIN_URL).set(database=DATABASE).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


@contextlib.contextmanager
def clean_redis() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@contextlib.contextmanager
def worker_pool() -> Iterator[Workers]:
    with tempfile.TemporaryDirectory(prefix="fanout-bench-") as logs:
        pool = Workers({}, Path(logs))
        try:
            yield pool
        except PublishFailed:
            raise
        except BaseException:
            sys.stderr.write(pool.log_tail()[-6000:] + "\n")
            raise
        finally:
            pool.stop_all()


# --- the same recipients and words for everyone ------------------------------------------


def renditions(settings, statement_id: int) -> dict[str, dict[str, str]]:
    from sqlalchemy import select

    from broadcaster.store.db import transaction
    from broadcaster.store.models import Rendition

    with transaction(settings.database_url) as s:
        return {r.channel: dict(r.fields) for r in s.scalars(select(Rendition)
                                                             .where(Rendition.statement_id == statement_id))}


# --- 1. Broadcaster ------------------------------------------------------------------------


class PublishFailed(RuntimeError):
    pass


def _publisher(env: dict[str, str], statement_id: int, conn) -> None:
    """Runs in a fresh process (so its peak RSS is the publisher's own): publish, nothing else.
    Stays alive until told to go, so its CPU time can be read after the fan-out settles."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from broadcaster import publish as publish_uc
    from broadcaster.config import Settings
    from broadcaster.people import actor_named as actor

    settings = Settings(_env_file=None)
    conn.send(("start", time.time()))
    try:
        result = publish_uc.publish(settings, actor(settings, "alice"), statement_id)  # as production does
    except Exception as exc:  # noqa: BLE001 - reported by the bench, not as a traceback
        conn.send(("error", time.time(), f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"))
    else:
        conn.send(("done", time.time(), result["deliveries"], peak_rss_mb(os.getpid())))
    conn.poll(600)
    conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    return cpu_seconds(pid) + sum(cpu_seconds(c) for c in children(pid))


def database_backends_cpu(settings) -> float:
    """CPU time of the PostgreSQL backends serving the bench database (read while they are connected)."""
    from sqlalchemy import text

    from broadcaster.store.db import engine_for

    with engine_for(settings.database_url).connect() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> "
                                       "pg_backend_pid()"), {"d": DATABASE}).scalars().all()
    return sum(cpu_seconds(pid) for pid in pids)


def run_broadcaster(fake, n: int, workers: int, email: bool = True, worker_values: dict | None = None,
                    timeout: float | None = None) -> dict:
    """Fresh database and broker, W workers, N subscribers: publish and time until settled."""
    from broadcaster.config import Settings
    from tests.integration.engine import approved_statement, as_env, provider_settings, status_counts

    fake.reset()
    with fresh_database() as url, clean_redis() as broker, worker_pool() as pool:
        values = {"database_url": url, "broker_url": broker, "secret_key": "bench-secret-key",
                  **provider_settings(fake.url), **(worker_values or {})}
        settings = Settings(_env_file=None, **values)
        env = as_env(values)
        add_subscribers(settings, n, email=email)
        statement_id = approved_statement(settings)
        fields = renditions(settings, statement_id)
        for _ in range(workers):
            pool.start(POOL, "live,bulk,reconcile", env=env)

        expected = n * (2 if email else 1) + LIVE_DELIVERIES
        timeout = timeout or 120 + expected / 100
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        publisher = ctx.Process(target=_publisher, args=(env, statement_id, child), daemon=True)
        publisher.start()
        if not parent.poll(60):
            raise TimeoutError("the publisher did not start")
        started = parent.recv()[1]
        cpu_before = {"workers": sum(tree_cpu(p.pid) for p in pool.processes), "fake": cpu_seconds(fake.process.pid),
                      "database": database_backends_cpu(settings)}
        published = publisher_rss = None
        counts: dict[str, int] = {}
        last_note = time.monotonic()
        try:
            while True:
                if published is None and parent.poll():
                    message = parent.recv()
                    published = message[1] - started
                    if message[0] == "error":
                        raise PublishFailed(f"publish failed after {published:.1f} s: {message[2]}")
                    publisher_rss = message[3]
                    log(f"broadcaster N={n}: publish returned in {published:.2f} s ({message[2]} live deliveries; "
                        "the workers write the rest)")
                counts = status_counts(settings, statement_id)
                now = time.time()
                total = sum(counts.values())
                if total == expected and not any(counts.get(k) for k in ("pending", "sending", "retry", "unknown")):
                    elapsed = now - started
                    break
                if now - started > timeout:
                    raise TimeoutError(f"broadcaster N={n}: not settled after {timeout:.0f} s: {counts}")
                if publisher.exitcode is not None:
                    raise RuntimeError(f"the publisher died (exit {publisher.exitcode})")
                if time.monotonic() - last_note > 15:
                    last_note = time.monotonic()
                    done = total - sum(counts.get(k, 0) for k in ("pending", "sending", "retry", "unknown"))
                    log(f"broadcaster N={n}: {done}/{expected} settled after {now - started:.0f} s")
                # Poll often enough that the timing error stays under ~2 %.
                time.sleep(min(1.0, max(0.05, (now - started) / 50)))
            rss = pool.peak_rss()  # before the workers exit
            if published is None:
                message = parent.recv()
                published, publisher_rss = message[1] - started, message[3]
            cpu = {"workers": sum(tree_cpu(p.pid) for p in pool.processes) - cpu_before["workers"],
                   "publisher": cpu_seconds(publisher.pid),
                   "database": database_backends_cpu(settings) - cpu_before["database"],
                   "fake": cpu_seconds(fake.process.pid) - cpu_before["fake"]}
        finally:
            with contextlib.suppress(OSError):
                parent.send("go")
            publisher.join(30)
            if publisher.is_alive():
                publisher.kill()
        received = fake.counts()

    per_process = [mb for main, kids in rss for mb in (main, *kids)]
    problems = []
    if counts.get("sent") != expected:
        problems.append(f"statuses {counts}")
    sms = received["sms"]
    if len(sms) != n or set(sms.values()) != {1}:
        problems.append(f"SMS: {len(sms)} numbers got {sum(sms.values())} messages")
    if email:
        mails = received["email"]
        if len(mails) != n or set(mails.values()) != {1}:
            problems.append(f"email: {len(mails)} addresses got {sum(mails.values())} messages")
    return {"n": n, "deliveries": sum(counts.values()), "seconds": elapsed, "published": published,
            "rate": sum(counts.values()) / elapsed, "peak_rss": max(per_process), "workers_rss": rss,
            "publisher_rss": publisher_rss, "requests": received["requests"], "fields": fields,
            "problems": problems, "received": received, "cpu": cpu}


# --- 2. Apprise ----------------------------------------------------------------------------


@contextlib.contextmanager
def requests_redirected(to: str) -> Iterator[None]:
    """Apprise hard-codes api.twilio.com and api.sendgrid.com; send them to the fake instead."""
    import requests

    original = requests.Session.request
    origins = ("https://api.twilio.com", "https://api.sendgrid.com")

    def request(self, method, url, *args, **kwargs):
        for origin in origins:
            if url.startswith(origin):
                url = to + url[len(origin):]
                break
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = request
    try:
        yield
    finally:
        requests.Session.request = original


def run_apprise(fake, sample: int, fields: dict) -> dict:
    import apprise
    import apprise.apprise as core
    from apprise.plugins.sendgrid import NotifySendGrid
    from apprise.plugins.twilio import NotifyTwilio

    from tests.integration.engine import ACCOUNT_SID

    # Apprise sleeps between two requests of one Twilio or SendGrid service (request_rate_per_sec = 0.2;
    # URLBase.throttle() returns at once when it is <= 0): switch that off.
    NotifyTwilio.request_rate_per_sec = 0
    NotifySendGrid.request_rate_per_sec = 0
    # Its concurrent mode: services (not the targets of one service) run in Apprise's shared thread pool
    # (async_mode, on by default). Split the targets over as many services as that pool has threads.
    # (Tried 4 to 64 threads here: all within noise; Apprise is CPU-bound in one process.)
    threads = core.get_shared_executor()._max_workers

    def split(items: list[str]) -> list[list[str]]:
        return [items[i::threads] for i in range(threads) if items[i::threads]]

    numbers = [phone_number(i) for i in range(sample)]
    emails = [email_address(i) for i in range(sample)]
    texts, mails = apprise.Apprise(), apprise.Apprise()
    for part in split(numbers):
        texts.add(NotifyTwilio(account_sid=ACCOUNT_SID, auth_token="token", source="+15005550006", targets=part))
    for part in split(emails):
        mails.add(NotifySendGrid(apikey="SG.test", from_email="status@example.com", targets=part))
    fake.reset()
    fake_cpu = cpu_seconds(fake.process.pid)
    with requests_redirected(fake.url):
        started, cpu = time.perf_counter(), time.process_time()
        ok_sms = texts.notify(body=fields["sms"]["text"])
        ok_mail = mails.notify(title=fields["email"]["subject"], body=fields["email"]["body_html"],
                               body_format=apprise.NotifyFormat.HTML)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    fake_cpu = cpu_seconds(fake.process.pid) - fake_cpu
    received = fake.counts()
    problems = []
    if not (ok_sms and ok_mail):
        problems.append(f"notify returned sms={bool(ok_sms)} email={bool(ok_mail)}")
    if len(received["sms"]) != sample or set(received["sms"].values()) != {1}:
        problems.append(f"SMS: {len(received['sms'])} numbers got {sum(received['sms'].values())}")
    if len(received["email"]) != sample or set(received["email"].values()) != {1}:
        problems.append(f"email: {len(received['email'])} addresses got {sum(received['email'].values())}")
    return {"messages": 2 * sample, "seconds": elapsed, "rate": 2 * sample / elapsed, "threads": threads,
            "requests": received["requests"], "problems": problems, "cpu": {"apprise": cpu, "fake": fake_cpu}}


# --- 3. Naive Celery -----------------------------------------------------------------------


def run_naive(fake, sample: int, fields: dict, workers: int) -> dict:
    import redis

    fake.reset()
    with clean_redis() as broker, worker_pool() as pool:
        env = {"NAIVE_BROKER_URL": broker, "NAIVE_FAKE_URL": fake.url}
        os.environ["NAIVE_BROKER_URL"] = broker
        from bench import naive_tasks

        for _ in range(workers):
            pool.start(POOL, naive_tasks.QUEUE, app="bench.naive_tasks", env=env, loglevel="WARNING",
                       ready="naive worker ready.")
        queue = redis.Redis.from_url(broker)
        sms, email = fields["sms"], fields["email"]
        total = 2 * sample
        cpu = {"workers": sum(tree_cpu(p.pid) for p in pool.processes), "fake": cpu_seconds(fake.process.pid),
               "enqueue": time.process_time()}
        started = time.perf_counter()
        for i in range(sample):
            naive_tasks.sms.apply_async((phone_number(i), sms["text"]))
            naive_tasks.email.apply_async((email_address(i), email["subject"], email["body_text"], email["body_html"]))
        enqueued = time.perf_counter() - started
        deadline = started + 120 + total / 50
        received = {"requests": 0}
        while True:
            # Ask the fake only once the queue is drained: its answer grows with N and it is the
            # same process that serves the workers.
            if not queue.llen(naive_tasks.QUEUE):
                received = fake.counts()
                if received["requests"] >= total:
                    break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"naive celery: {received['requests']}/{total} messages after "
                                   f"{time.perf_counter() - started:.0f} s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = {"workers": sum(tree_cpu(p.pid) for p in pool.processes) - cpu["workers"],
               "enqueue": time.process_time() - cpu["enqueue"], "fake": cpu_seconds(fake.process.pid) - cpu["fake"]}
        queue.close()
    problems = []
    if len(received["sms"]) != sample or set(received["sms"].values()) != {1}:
        problems.append(f"SMS: {len(received['sms'])} numbers got {sum(received['sms'].values())}")
    if len(received["email"]) != sample or set(received["email"].values()) != {1}:
        problems.append(f"email: {len(received['email'])} addresses got {sum(received['email'].values())}")
    return {"messages": total, "seconds": elapsed, "rate": total / elapsed, "enqueued": enqueued,
            "problems": problems, "cpu": cpu}


# --- 4. The floor --------------------------------------------------------------------------


def _floor_process(url: str, jobs: list[tuple], threads: int, ready, go, results) -> None:
    """One process: the given requests, `threads` threads each with its own keep-alive httpx.Client
    (the shape of a Broadcaster pool process and its send threads). httpx's sync client: on this
    machine its AsyncClient costs about twice the CPU per request, which would make a poor floor."""
    import threading

    import httpx

    from tests.integration.engine import ACCOUNT_SID

    twilio_path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    basic = {"Authorization": "Basic " + base64.b64encode(f"{ACCOUNT_SID}:token".encode()).decode()}
    bearer = {"Authorization": "Bearer SG.test", "Content-Type": "application/json"}
    failures = []
    connected = threading.Barrier(threads + 1)

    def sender(part: list[tuple]) -> None:
        bad = 0
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
            client.get("/_faults")  # connect before the clock starts: keep-alive from the first request
            connected.wait(60)
            go.wait()
            for kind, payload in part:
                if kind == "sms":
                    response = client.post(twilio_path, data=payload, headers=basic)
                else:
                    response = client.post("/v3/mail/send", content=payload, headers=bearer)
                bad += response.status_code >= 300
        failures.append(bad)

    pool = [threading.Thread(target=sender, args=(jobs[t::threads],)) for t in range(threads)]
    for thread in pool:
        thread.start()
    connected.wait(60)
    ready.put(os.getpid())
    for thread in pool:
        thread.join()
    results.put((os.getpid(), sum(failures), time.process_time()))


def run_floor(fake, n: int, fields: dict, processes: int, concurrency: int) -> dict:
    sms, email = fields["sms"], fields["email"]
    jobs: list[list[tuple]] = [[] for _ in range(processes)]
    for i in range(n):
        jobs[i % processes].append(("sms", {"To": phone_number(i), "Body": sms["text"], "From": "+15005550006"}))
    batches = math.ceil(n / 1000)
    for b in range(batches):
        body = {"from": {"email": "status@example.com", "name": "Example Co"}, "subject": email["subject"],
                "personalizations": [{"to": [{"email": email_address(i)}],
                                      "custom_args": {"delivery_id": str(i + 1)}}
                                     for i in range(b * 1000, min(n, (b + 1) * 1000))],
                "content": [{"type": "text/plain", "value": email["body_text"]},
                            {"type": "text/html", "value": email["body_html"]}]}
        jobs[b % processes].insert(0, ("email", json.dumps(body).encode()))
    fake.reset()
    ctx = multiprocessing.get_context("fork")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_floor_process, args=(fake.url, part, concurrency, ready, go, results), daemon=True)
             for part in jobs]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=60)
        cpu = {"client": sum(cpu_seconds(p.pid) for p in procs), "fake": cpu_seconds(fake.process.pid)}
        started = time.perf_counter()
        go.set()
        failures = 0
        for _ in procs:
            pid, bad, spent = results.get(timeout=120 + n / 100)
            failures += bad
            cpu["client"] -= spent  # each process reports its own CPU time before it exits
        elapsed = time.perf_counter() - started
        cpu = {"client": -cpu["client"], "fake": cpu_seconds(fake.process.pid) - cpu["fake"]}
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    received = fake.counts()
    problems = [f"{failures} requests failed"] if failures else []
    if len(received["sms"]) != n or len(received["email"]) != n:
        problems.append(f"fake counted {len(received['sms'])} SMS, {len(received['email'])} emails")
    return {"messages": 2 * n, "requests": n + batches, "seconds": elapsed, "rate": 2 * n / elapsed,
            "problems": problems, "cpu": cpu}


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
                r = run_broadcaster(fake, n, args.workers)
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
    parser.add_argument("--rate-limit", type=int, default=None, help="provider limit in requests/s")
    parser.add_argument("--timeout", type=float, default=None, help="stop the whole run after this many seconds")
    parser.add_argument("--live-during-bulk", action="store_true",
                        help="time to the live surfaces of repeated publishes while a fan-out to N runs")
    parser.add_argument("--publishes", type=int, default=20, help="publishes measured by --live-during-bulk")
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
    return main_comparison(args)


if __name__ == "__main__":
    sys.exit(main())
