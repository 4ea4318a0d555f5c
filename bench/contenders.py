"""The contenders of bench/fanout.py: Broadcaster (publish, real workers, every delivery settled in
the database), Apprise at its best, naive Celery (one task per message) and the floor (the same HTTP
requests from bare keep-alive clients). Each returns its rate and CPU per message by process kind."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.rig import (  # noqa: E402
    DATABASE,
    LIVE_DELIVERIES,
    POOL,
    ROOT,
    PublishFailed,
    clean_redis,
    fresh_database,
    log,
    renditions,
    worker_pool,
)
from broadcaster.delivery.broker import EVERY_QUEUE  # noqa: E402
from broadcaster.domain.delivery_status import IN_FLIGHT, UNSENT, DeliveryStatus  # noqa: E402
from tests.harness import add_subscribers, children, email_address, peak_rss_mb, phone_number  # noqa: E402


def _publisher(env: dict[str, str], statement_id: int, conn) -> None:
    """Runs in a fresh process (so its peak RSS is the publisher's own): publish, nothing else.
    Stays alive until told to go, so its CPU time can be read after the fan-out settles."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from broadcaster.config import Settings
    from broadcaster.delivery.warm import warm_up
    from broadcaster.incidents import publishing
    from broadcaster.people.users import actor_named as actor

    settings = Settings(_env_file=None)
    # Ready as the web process that stands for is when a publish reaches it (`serve` warms up at start-up):
    # the time below is publish's own, not the first import of the database driver and the SDKs.
    warm_up(settings)
    conn.send(("start", time.time()))
    try:
        result = publishing.publish(settings, actor(settings, "alice"), statement_id)  # as production does
    except Exception as exc:  # noqa: BLE001 - reported by the bench, not as a traceback
        conn.send(("error", time.time(), f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"))
    else:
        conn.send(("done", time.time(), result["deliveries"], peak_rss_mb(os.getpid())))
    conn.poll(None)  # kept alive (its RSS read) until the bench has seen the fan-out settle, however long
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


SPANISH = {"headline": "Algunos clientes no pueden iniciar sesión", "body": "Falla uno de cada cinco inicios.",
           "workaround": "Use la aplicación móvil"}


def run_broadcaster(fake, n: int, workers: int, email: bool = True, worker_values: dict | None = None,
                    timeout: float | None = None, bilingual: bool = False) -> dict:
    """Fresh database and broker, W workers, N subscribers: publish and time until settled. `bilingual`:
    the statement has a Spanish translation and every other subscriber reads Spanish."""
    from broadcaster.config import Settings
    from tests.integration.engine import approved_statement, as_env, provider_settings, status_counts

    fake.reset()
    with fresh_database() as url, clean_redis() as broker, worker_pool() as pool:
        values = {"database_url": url, "broker_url": broker, "secret_key": "bench-secret-key",
                  **provider_settings(fake.url), **(worker_values or {}), **({"locales": "es"} if bilingual else {})}
        settings = Settings(_env_file=None, **values)
        env = as_env(values)
        add_subscribers(settings, n, email=email)
        if bilingual:
            _half_in_spanish(settings)
        statement_id = approved_statement(settings, translations={"es": SPANISH} if bilingual else None)
        fields = renditions(settings, statement_id)
        for _ in range(workers):
            pool.start(POOL, EVERY_QUEUE, env=env)

        # The live surfaces' count comes from publish itself (it writes them): a new live channel must not
        # leave the bench waiting for a number it can never reach.
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
                    expected = n * (2 if email else 1) + message[2]
                    log(f"broadcaster N={n}: publish returned in {published:.2f} s ({message[2]} live deliveries; "
                        "the workers write the rest)")
                counts = status_counts(settings, statement_id)
                now = time.time()
                total = sum(counts.values())
                settled = not any(counts.get(k) for k in (*UNSENT, *IN_FLIGHT))
                if published is not None and total == expected and settled:
                    elapsed = now - started
                    break
                if now - started > timeout:
                    raise TimeoutError(f"broadcaster N={n}: not settled after {timeout:.0f} s: {counts}")
                if publisher.exitcode is not None and published is None:
                    raise RuntimeError(f"the publisher died (exit {publisher.exitcode})")
                if time.monotonic() - last_note > 15:
                    last_note = time.monotonic()
                    done = total - sum(counts.get(k, 0) for k in (*UNSENT, *IN_FLIGHT))
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
    # Sent, or shown by the log provider: an unconfigured live channel (Slack, Teams here) is simulated.
    if counts.get(DeliveryStatus.SENT, 0) + counts.get(DeliveryStatus.SIMULATED, 0) != expected:
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


def _half_in_spanish(settings) -> None:
    from sqlalchemy import update

    from broadcaster.store.db import transaction
    from broadcaster.store.models import Subscriber

    with transaction(settings.database_url) as s:
        s.execute(update(Subscriber).where(Subscriber.id % 2 == 0).values(locale="es"))


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
