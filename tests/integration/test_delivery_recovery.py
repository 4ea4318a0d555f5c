"""Back within a minute: outcomes recorded per provider batch, a short lease kept by a heartbeat,
every undelivered message on its way again within 60 s of a SIGKILL with no duplicate, and a
reconciliation that is bounded, parallel and one at a time across the fleet."""

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from broadcaster.delivery import chunk
from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.broker import Queue, TaskName
from broadcaster.delivery.enqueue import enqueue, enqueue_due
from broadcaster.incidents import publishing
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, utcnow
from tests.conftest import actor, make_settings
from tests.integration.engine import (
    Workers,
    add_subscribers,
    approved_statement,
    as_env,
    chunk_held_after,
    illegal_histories,
    provider_settings,
    settled,
    status_counts,
    wait_until,
)
from tests.integration.recovery import QUICK_RECOVERY, fan_out_under_way, until_settled


def sms_ids(settings, sid):
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(Delivery.id).where(Delivery.statement_id == sid, Delivery.channel == "sms")
                              .order_by(Delivery.id)))


def test_outcomes_are_recorded_as_batches_finish_not_when_the_chunk_ends(database_url, fake, monkeypatch):
    settings = make_settings(database_url, **provider_settings(fake.url), send_threads=1)
    add_subscribers(settings, 40, email=False)
    fake.faults(delay_ms=50)
    sid = approved_statement(settings)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda *_: None)
    # The chunk's eleventh batch waits until the test has looked: a busy machine that ran this thread late
    # found the two seconds of sends over, and the chunk with them.
    with chunk_held_after(monkeypatch, settings, sms_ids(settings, sid), batches=10) as sending:
        wait_until(lambda: status_counts(settings, sid).get("sent", 0) >= 5, 60, "sent rows while the chunk runs")
        assert sending.is_alive(), "the chunk finished before anything could be seen"
    assert status_counts(settings, sid).get("sent") == 40


def test_a_heartbeat_keeps_a_slow_chunks_short_lease(database_url, fake):
    settings = make_settings(database_url, **provider_settings(fake.url), send_threads=1, lease_seconds=1.5)
    add_subscribers(settings, 30, email=False)
    fake.faults(delay_ms=100)  # 3 s of sends: twice the lease
    sid = approved_statement(settings)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda *_: None)
    sending = threading.Thread(target=chunk.send_chunk, args=(settings, sms_ids(settings, sid)))
    sending.start()
    expired = 0
    while sending.is_alive():
        expired += sweeping.expire_leases(settings)
        time.sleep(0.2)
    assert expired == 0
    assert status_counts(settings, sid).get("sent") == 30 and sum(fake.counts()["sms"].values()) == 30


def test_after_a_sigkill_mid_fanout_every_sms_is_out_within_a_minute_and_none_twice(
        database_url, redis_broker, fake, tmp_path):
    values = {"database_url": database_url, "broker_url": redis_broker, **provider_settings(fake.url),
              "lease_seconds": 30, "sweep_interval_seconds": 5}
    settings = make_settings(**values)
    workers = Workers(as_env(values), tmp_path)
    try:
        add_subscribers(settings, 1500, email=False)
        fake.faults(delay_ms=3)
        # The rest of the fleet is running when one worker dies, as in production: a replacement started
        # after the kill put its start (fifteen seconds and more on a busy machine) into the minute.
        first = workers.start(concurrency=2)
        workers.start(concurrency=2)
        sid = approved_statement(settings)
        publishing.publish(settings, actor(settings, "alice"), sid, dispatch=enqueue)
        wait_until(lambda: sum(fake.counts()["sms"].values()) >= 200, 60, "some SMS to go out")
        workers.kill(first)
        killed_at = time.monotonic()
        assert sum(fake.counts()["sms"].values()) < 1500, "the kill came too late to test anything"

        def all_out() -> bool:
            sweeping.sweep(settings, enqueue_due)  # what beat does every interval
            return settled(settings, sid)

        wait_until(all_out, 180, "every SMS to go out again after the SIGKILL", poll=1.0)
        recovered_in = time.monotonic() - killed_at
    finally:
        workers.stop_all()
    counts = fake.counts()["sms"]
    assert len(counts) == 1500 and max(counts.values()) == 1, "someone got an SMS twice"
    assert status_counts(settings, sid).get("sent") == 1500 + 5  # + banner, status page, ivr, x, the agent desk
    assert recovered_in < 60
    assert illegal_histories(settings) == {}  # every status moved as the table allows, a SIGKILL and all


@pytest.mark.parametrize("backend", ["postgresql"])  # the fleet's database; the claim is the same SQL on both
def test_a_worker_starved_past_its_lease_sends_nothing_more_when_it_wakes(database_url, redis_broker, fake, tmp_path):
    """A worker frozen mid-chunk (SIGSTOP: starved of CPU, a paused VM) for longer than its lease: the sweep
    expires its claims, reconciliation finds what the provider never got, and another worker sends it.
    Woken (SIGCONT), the frozen worker's send threads find the lease lapsed and start nothing more."""
    values = {"database_url": database_url, "broker_url": redis_broker, **provider_settings(fake.url),
              **QUICK_RECOVERY}
    settings = make_settings(**values)
    fake.faults(delay_ms=5)
    with fan_out_under_way(settings, values, fake, tmp_path, 1500) as (pool, sid, sent):
        [frozen] = pool.processes
        os.killpg(frozen.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        try:
            assert sent() < 1500, "the fan-out finished before the worker froze"
            pool.start(concurrency=2)  # the rest of the fleet
            taken_over = sent()

            def others_resent() -> bool:  # the frozen worker's claims expired, reconciled, sent by the others
                sweeping.sweep(settings, enqueue_due)
                return sent() > taken_over + 100 and time.monotonic() - frozen_at > 2 * values["lease_seconds"]

            wait_until(others_resent, 60, "the others to send what the frozen worker held", poll=1.0)
        finally:
            os.killpg(frozen.pid, signal.SIGCONT)
        until_settled(settings, sid, sent, pool, frozen_at)
    sms = fake.counts()["sms"]
    twice = sorted(to for to, n in sms.items() if n > 1)
    # Only a request already on its way when the worker froze can arrive twice (half written, so the
    # provider had not seen it when reconciliation asked): at most one a send thread. Without the
    # lease check every batch the frozen threads still held went out again (hundreds).
    in_flight = 2 * settings.send_threads
    assert len(sms) == 1500 and max(sms.values()) <= 2 and len(twice) <= in_flight, (len(twice), twice[:5])
    assert illegal_histories(settings) == {}


def unknown_sms(settings, n, fake):
    add_subscribers(settings, n, email=False)
    sid = approved_statement(settings)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda *_: None)
    with transaction(settings.database_url) as s:
        s.execute(update(Delivery).where(Delivery.channel == "sms").values(status="unknown", attempts=1))
    return sid


def test_reconciliation_is_parallel_and_bounded_at_real_provider_latency(database_url, fake, monkeypatch):
    settings = make_settings(database_url, **provider_settings(fake.url), reconcile_threads=4,
                             reconcile_slice=20, reconcile_seconds=3.0)
    sid = unknown_sms(settings, 80, fake)
    fake.faults(delay_ms=500)
    # Parallel is read from the questions in flight at once, not from how many a busy machine got through.
    asking, most, counting, real_ask = [0], [0], threading.Lock(), sweeping._ask_provider

    def ask_provider(*args):
        with counting:
            asking[0] += 1
            most[0] = max(most[0], asking[0])
        try:
            return real_ask(*args)
        finally:
            with counting:
                asking[0] -= 1

    monkeypatch.setattr(sweeping, "_ask_provider", ask_provider)
    started = time.monotonic()
    done = sweeping.reconcile(settings)["reconciled"]
    took = time.monotonic() - started

    # Unbounded, the 80 questions take 10 s on four threads (40 on one); bounded, the 3 s budget and the
    # questions then in flight: the rest of the margin is for a busy machine.
    assert took < 8.5 and 0 < done < 80, f"{done} reconciled in {took:.1f} s: the budget was not kept"
    assert most[0] >= 2, "one question at a time: not parallel"
    assert status_counts(settings, sid).get("retry") == done  # the provider never got them: resend


def test_only_one_reconciliation_runs_at_a_time_across_the_fleet(database_url, redis_broker, fake, monkeypatch):
    settings = make_settings(database_url, broker_url=redis_broker, **provider_settings(fake.url),
                             reconcile_threads=2, reconcile_seconds=60.0)
    unknown_sms(settings, 20, fake)
    fake.faults(delay_ms=200)
    # The first one's questions wait until the second has tried: it holds the fleet's lock all along, where
    # a 0.5 s sleep let a busy machine start the second before the first had taken it.
    asked, tried, real_ask = threading.Event(), threading.Event(), sweeping._ask_provider

    def ask_provider(*args):
        asked.set()
        tried.wait(60)
        return real_ask(*args)

    monkeypatch.setattr(sweeping, "_ask_provider", ask_provider)
    results = []
    first = threading.Thread(target=lambda: results.append(sweeping.reconcile(settings)))
    first.start()
    try:
        wait_until(asked.is_set, 60, "the first reconciliation to ask the provider")
        second = sweeping.reconcile(settings)
    finally:
        tried.set()
        first.join(60)
    assert second == {"reconciled": 0, "skipped": 1}
    assert results[0]["reconciled"] == 20


def test_the_sweep_hands_reconciliation_to_its_own_queue(database_url, redis_broker, fake):
    settings = make_settings(database_url, broker_url=redis_broker, **provider_settings(fake.url))
    handed = []
    result = sweeping.sweep(settings, enqueue_due, reconciler=handed.append)
    assert handed == [settings] and result["reconciled"] == 0
    from workers.app import celery_app

    assert celery_app.amqp.router.route({}, TaskName.RECONCILE.value)["queue"].name == Queue.RECONCILE


@pytest.mark.parametrize("backend", ["postgresql"])  # row locks are PostgreSQL's
def test_the_sweep_expires_leases_past_rows_a_frozen_transaction_holds(database_url, fake):
    """A worker frozen while it records its outcomes holds those rows' locks until it wakes: the sweep
    expires every other lapsed lease at once and leaves the held one to a later sweep, instead of
    waiting (it waited for ever, and beat's whole sweep with it)."""
    settings = make_settings(database_url)
    sid = unknown_sms(settings, 3, fake)
    with transaction(settings.database_url) as s:
        s.execute(update(Delivery).where(Delivery.channel == "sms")
                  .values(status="sending", lease_until=utcnow() - timedelta(minutes=5)))
        held_id, *others = s.scalars(select(Delivery.id).where(Delivery.channel == "sms").order_by(Delivery.id)).all()
    with transaction(settings.database_url) as frozen:
        frozen.execute(select(Delivery).where(Delivery.id == held_id).with_for_update())
        outcome = {}
        sweep = threading.Thread(target=lambda: outcome.update(expired=sweeping.expire_leases(settings)), daemon=True)
        sweep.start()
        sweep.join(10)
        assert not sweep.is_alive(), "the sweep waited for the frozen transaction's rows"
        assert outcome["expired"] == len(others) == 2
    assert sweeping.expire_leases(settings) == 1  # woken and gone: the next sweep takes the held row
    assert set(sms_statuses(settings, sid)) == {"unknown"}


def sms_statuses(settings, sid) -> list[str]:
    with transaction(settings.database_url) as s:
        return s.scalars(select(Delivery.status).where(Delivery.statement_id == sid, Delivery.channel == "sms")).all()
