"""Live surfaces first, at any size: `python bench/fanout.py --live-during-bulk [--recipients N]`.

Incident A ("Login") is published to N subscribers, who all want Login incidents: its fan-out
writes and sends 2N deliveries (email and SMS). While that runs, another incident B ("Billing",
which none of them wants, so its own fan-outs send nothing) gets `--publishes` updates, one a
second. For each: the time `publish` took to return, and the time from calling it until the
banner, the status page, the IVR line and X show it (the first `sent` line of each in the send
log, stamped by the worker that sent it). Printed as p50/p99, with how many of the publishes
overlapped the running bulk fan-out (a measurement taken after the bulk finished says nothing).

Workers as docker-compose runs them: W workers on every queue and one on the `live` queue only.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from datetime import UTC, datetime

from bench.rig import POOL, clean_redis, fresh_database, log, worker_pool
from broadcaster.delivery.broker import EVERY_QUEUE, Queue
from tests.harness import add_subscribers
from tests.integration.public_watch import URLS, PublicWatch, new_words

LIVE = ("banner", "status_page", "ivr", "x")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def live_sent_at(settings, statement_id: int) -> dict[str, datetime]:
    from sqlalchemy import func, select

    from broadcaster.domain.delivery_status import DeliveryStatus
    from broadcaster.store.db import transaction
    from broadcaster.store.models import DeliveryEvent

    with transaction(settings.database_url) as s:
        return dict(s.execute(select(DeliveryEvent.channel, func.min(DeliveryEvent.created_at))
                              .where(DeliveryEvent.statement_id == statement_id,
                                     DeliveryEvent.status == DeliveryStatus.SENT, DeliveryEvent.channel.in_(LIVE))
                              .group_by(DeliveryEvent.channel)).all())


def bulk_left(settings, statement_id: int) -> int:
    from broadcaster.delivery.progress import progress
    from broadcaster.domain.delivery_status import PREPARING, UNSENT, DeliveryStatus

    return sum(n for by_status in progress(settings, statement_id).values() for status, n in by_status.items()
               if status in (PREPARING, *UNSENT, DeliveryStatus.SENDING))


def main_live_during_bulk(args) -> int:
    from broadcaster.config import Settings
    from broadcaster.incidents import publishing, statements
    from broadcaster.people.users import actor_named as actor
    from tests.fakes.server import running_fake
    from tests.integration.engine import approved_statement, as_env, provider_settings

    n = args.recipients
    with running_fake() as fake, fresh_database() as url, clean_redis() as broker, worker_pool() as pool, \
            contextlib.ExitStack() as stack:
        values = {"database_url": url, "broker_url": broker, "secret_key": "bench-secret-key",
                  **provider_settings(fake.url)}
        settings = Settings(_env_file=None, **values)
        add_subscribers(settings, n, components=("Login",))
        bulk = approved_statement(settings)
        # as severe as the bulk's incident and newer: what the banner and the phone line say first
        billing = statements.open_incident(settings, actor(settings, "alice"), "Invoices late", "major",
                                           ["Billing"])["id"]
        for _ in range(args.workers):
            pool.start(POOL, EVERY_QUEUE, env=as_env(values))
        pool.start(1, Queue.LIVE.value, env=as_env(values))
        log(f"live during bulk: N={n}, {args.workers} workers x {POOL} on every queue + 1 on `live`")
        public = stack.enter_context(PublicWatch(
            {**as_env(values), "BROADCASTER_PUBLIC_SPOOL_PATH": str(pool.logs / "spool.sqlite3")}, pool.logs,
            values["public_url"], values["twilio_auth_token"], workers=args.public_workers))

        started = time.monotonic()
        publishing.publish(settings, actor(settings, "alice"), bulk)
        bulk_publish = time.monotonic() - started
        rows, overlapped = [], 0
        for k in range(args.publishes):
            time.sleep(1.0)
            headline = f"Invoices are late (update {k + 1})"
            update = approved_statement(settings, headline=headline, incident_id=billing)
            running = bulk_left(settings, bulk) > 0
            public_done, public_seen = public.watch(new_words(headline, update))
            wall = datetime.now(UTC)
            t0 = time.monotonic()
            publishing.publish(settings, actor(settings, "alice"), update)
            returned = time.monotonic() - t0
            deadline = time.monotonic() + 60
            while len(sent := live_sent_at(settings, update)) < len(LIVE) and time.monotonic() < deadline:
                time.sleep(0.02)
            if len(sent) < len(LIVE):
                print(f"live-during-bulk: publish {k + 1}: only {sorted(sent)} live after 60 s")
                return 1
            public_done.wait(60)
            if len(public_seen) < len(URLS):
                print(f"live-during-bulk: publish {k + 1}: the public server showed it only at {sorted(public_seen)}")
                return 1
            overlapped += running and bulk_left(settings, bulk) > 0
            rows.append({"returned": returned, **{ch: (at - wall).total_seconds() for ch, at in sent.items()},
                         **{path: at - t0 for path, at in public_seen.items()}})
        bulk_settled = bulk_left(settings, bulk) == 0

    every = [max(r[ch] for ch in LIVE) for r in rows]
    public_every = [max(r[path] for path in URLS) for r in rows]
    print(f"live-during-bulk: bulk publish to {n} subscribers returned in {bulk_publish:.2f} s")
    for name in ("returned", *LIVE, *URLS):
        values = [r[name] for r in rows]
        print(f"live-during-bulk: {name:>11}: p50 {statistics.median(values):.2f} s, "
              f"p99 {percentile(values, 99):.2f} s, max {max(values):.2f} s")
    print(f"live-during-bulk: {len(rows)} publishes, {overlapped} while the bulk fan-out to {n} ran"
          f"{'' if not bulk_settled else ' (it had finished by the end)'}; all four live surfaces: "
          f"p50 {statistics.median(every):.2f} s, p99 {percentile(every, 99):.2f} s (aim: under 2 s)")
    print(f"live-during-bulk: at the public server ({args.public_workers} process(es)), all four URLs: "
          f"p50 {statistics.median(public_every):.2f} s, p99 {percentile(public_every, 99):.2f} s, "
          f"max {max(public_every):.2f} s (aim: p99 under 2 s)")
    return 0
