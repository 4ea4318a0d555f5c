"""The delivery engine with real parts: Redis, `celery worker` processes, SQLite and
PostgreSQL, the official SDKs against the fast fake provider (which counts what each
recipient receives)."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from broadcaster.delivery import chunk, send_threads, sendlog
from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.broker import app_for
from broadcaster.delivery.enqueue import enqueue, enqueue_due, queued
from broadcaster.incidents import publishing, statements
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, Subscriber, utcnow
from tests.conftest import actor, make_settings
from tests.integration.engine import (
    LIVE,
    LIVE_SENT,
    UNCONFIGURED,
    Workers,
    add_subscribers,
    approved_statement,
    as_env,
    provider_settings,
    settled,
    status_counts,
    wait_until,
)
from tests.integration.rows import delivery


@pytest.fixture
def engine_values(database_url, redis_broker, fake) -> dict:
    return {"database_url": database_url, "broker_url": redis_broker, **provider_settings(fake.url),
            "lease_seconds": 4, "sweep_interval_seconds": 1, "backoff_base_seconds": 0.5,
            "backoff_cap_seconds": 2, "quick_retries": 2, "quick_retry_max_wait_seconds": 2,
            "sms_notify_on": "all"}  # the engine under test sends every version by SMS (not only open/resolve)


@pytest.fixture
def settings(engine_values):
    return make_settings(**engine_values)


@pytest.fixture
def workers(engine_values, kept_workers):
    pool = kept_workers(as_env(engine_values))
    yield pool
    pool.stop_all()


def publish_and_wait(settings, statement_id, timeout=60, sweep=True):
    publishing.publish(settings, actor(settings, "alice"), statement_id, dispatch=enqueue)

    def done():
        if sweep:
            sweeping.sweep(settings, enqueue_due)  # what beat does every interval
        return settled(settings, statement_id)

    wait_until(done, timeout, "the fan-out to settle", poll=0.5)


def test_publish_fans_out_through_celery_workers_to_every_channel(settings, workers, fake):
    workers.start()
    add_subscribers(settings, 30)
    sid = approved_statement(settings)
    publish_and_wait(settings, sid)
    counts = fake.counts()
    assert status_counts(settings, sid) == {"sent": LIVE_SENT + 60, **UNCONFIGURED}  # 30 email + 30 sms
    assert sorted(counts["sms"].values()) == [1] * 30
    assert sorted(counts["email"].values()) == [1] * 30
    assert len(counts["x"]) == 1
    events = sendlog.send_log(settings, statement_id=sid, channel="sms", status="sent")
    assert len(events) == 30 and all(e["provider"] == "twilio" and e["provider_message_id"] for e in events)


def test_worker_killed_mid_fanout_every_recipient_gets_exactly_one_sms(settings, workers, fake):
    add_subscribers(settings, 2000, email=False)
    fake.faults(delay_ms=2)  # slow enough that the kill lands mid fan-out
    first = workers.start(concurrency=2)
    sid = approved_statement(settings)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=enqueue)
    wait_until(lambda: 200 <= sum(fake.counts()["sms"].values()), 60, "some SMS to go out")
    workers.kill(first)
    sent_before_restart = sum(fake.counts()["sms"].values())
    assert sent_before_restart < 2000, "the kill came too late to test anything"
    workers.start(concurrency=2)
    wait_until(lambda: sweeping.sweep(settings, enqueue_due) is not None and settled(settings, sid), 120,
               "every SMS to settle after the crash", poll=0.5)
    counts = fake.counts()["sms"]
    twice = [to for to, n in counts.items() if n > 1]
    history = [(e["status"], e["attempt"], e["detail"][:80]) for e in sendlog.send_log(settings, statement_id=sid)
               if twice and e["target"] == twice[0]]
    assert len(counts) == 2000 and not twice, (len(twice), history)
    assert status_counts(settings, sid).get("sent") == 2000 + 5  # + banner, status page, ivr, x, the agent desk
    log = sendlog.send_log(settings, statement_id=sid, channel="sms", status="sent")
    assert len({e["target"] for e in log}) == 2000 and len(log) == 2000


def test_provider_500s_for_a_while_then_everything_is_delivered(settings, workers, fake):
    workers.start()
    add_subscribers(settings, 20, email=False)
    fake.faults(fail_next=30, status=500)
    sid = approved_statement(settings)
    publish_and_wait(settings, sid)
    counts = fake.counts()
    assert sorted(counts["sms"].values()) == [1] * 20
    assert counts["status_counts"].get("500", 0) == 30
    retried = [e for e in sendlog.send_log(settings, statement_id=sid, channel="sms") if e["status"] == "retry"]
    assert retried, "some deliveries had to wait for a later attempt"


def test_429_retry_after_is_honoured(settings, workers, fake):
    workers.start()
    add_subscribers(settings, 1, email=False)
    fake.faults(fail_next=1, status=429, retry_after=1)
    sid = approved_statement(settings)
    started = time.monotonic()
    publish_and_wait(settings, sid)
    counts = fake.counts()
    assert counts["status_counts"].get("429") == 1
    assert list(counts["sms"].values()) == [1]
    assert time.monotonic() - started >= 1.0


def test_invalid_number_fails_with_twilios_code_and_is_not_retried(settings, workers, fake):
    workers.start()
    add_subscribers(settings, 3, email=False)
    bad = "+14152000001"
    fake.faults(invalid_numbers=[bad])
    sid = approved_statement(settings)
    publish_and_wait(settings, sid)
    with transaction(settings.database_url) as s:
        failed = s.scalar(select(Delivery).where(Delivery.target == bad))
    assert (failed.status, failed.error_code, failed.attempts) == ("failed", "21211", 1)
    assert fake.counts()["status_counts"].get("400") == 1


def test_opted_out_and_cancelled_deliveries_are_never_sent(settings, workers, fake):
    add_subscribers(settings, 3, email=False)
    with transaction(settings.database_url) as s:
        s.execute(update(Subscriber).where(Subscriber.phone == "+14152000002").values(opted_out_at=utcnow()))
    v1 = approved_statement(settings)
    # Lost on the way to the broker:
    publishing.publish(settings, actor(settings, "alice"), v1, dispatch=lambda *_: None)
    incident_id = statements.get_statement(settings, v1)["incident_id"]
    v2 = approved_statement(settings, headline="Logins work again for most customers", incident_id=incident_id)
    workers.start()
    publish_and_wait(settings, v2)
    sms = fake.counts()["sms"]
    assert "+14152000002" not in sms
    assert sorted(sms.values()) == [1, 1]  # only v2, once each: v1's were cancelled before going out
    assert status_counts(settings, v1) == {"cancelled": 2 + LIVE}


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, to stop and restart without touching anyone else's."""
    import socket
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(tmp_path)]

    def start():
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        wait_until(lambda: _pings(redis.Redis(port=port)), 60, "redis to start")
        return proc

    server = {"proc": start()}
    yield {"url": f"redis://127.0.0.1:{port}/0", "start": lambda: server.update(proc=start()),
           "stop": lambda: (server["proc"].terminate(), server["proc"].wait(10))}
    server["proc"].terminate()
    server["proc"].wait(10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:  # noqa: BLE001
        return False


def test_redis_restart_mid_fanout_loses_nothing(engine_values, own_redis, tmp_path, fake):
    values = {**engine_values, "broker_url": own_redis["url"]}
    settings = make_settings(**values)
    pool = Workers(as_env(values), tmp_path)
    try:
        add_subscribers(settings, 600, email=False)
        fake.faults(delay_ms=3)
        pool.start(concurrency=2)
        sid = approved_statement(settings)
        publishing.publish(settings, actor(settings, "alice"), sid, dispatch=enqueue)
        wait_until(lambda: sum(fake.counts()["sms"].values()) >= 50, 60, "the fan-out to start")
        own_redis["stop"]()  # every queued task is gone with it
        time.sleep(2)
        own_redis["start"]()

        def recovered() -> bool:
            # kombu may crash a worker that acks on a dead connection; the supervisor restarts it.
            pool.restart_dead()
            sweeping.sweep(settings, enqueue_due)
            return settled(settings, sid)

        wait_until(recovered, 120, "the sweep to finish the fan-out", poll=1)
    finally:
        pool.stop_all()
    sms = fake.counts()["sms"]
    assert len(sms) == 600 and set(sms.values()) == {1}


def test_the_sweep_adds_nothing_to_a_backlog_and_requeues_once_it_has_drained(settings):
    add_subscribers(settings, 30, email=False)
    sid = approved_statement(settings)
    ids: list[int] = []
    # No worker: all of it waits on the broker.
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda st, d: ids.extend(d) or enqueue(st, d))
    with transaction(settings.database_url) as s:  # ... for longer than a sweep interval
        s.execute(update(Delivery).values(updated_at=utcnow() - timedelta(minutes=5)))
    app = app_for(settings)
    backlog = (queued(app, "live"), queued(app, "bulk"))

    waiting = sweeping.sweep(settings, enqueue_due)

    assert backlog == (LIVE, 1)  # one task per live channel; 30 SMS in one chunk
    # The bulk rows stay in their backlog; the live ones go again (a handful, and the live queue's
    # backlog may be periodic jobs only: the claim makes a copy harmless).
    assert (queued(app, "live"), queued(app, "bulk")) == (2 * LIVE, 1)
    assert waiting["requeued"] == LIVE and waiting["left for later"] == 30
    failed_once = sorted(d for d in ids if delivery(settings, d).channel == "sms")[0]
    with transaction(settings.database_url) as s:  # a retry row was never on the broker: it goes
        s.execute(update(Delivery).where(Delivery.id == failed_once)
                  .values(status="retry", updated_at=utcnow() - timedelta(minutes=5)))

    retried = sweeping.sweep(settings, enqueue_due)

    assert retried["requeued"] == 1 + LIVE and queued(app, "bulk") == 2
    channel = app.connection_for_write().default_channel
    channel.queue_purge("bulk")  # what a restarted Redis forgets

    lost = sweeping.sweep(settings, enqueue_due)

    assert lost["requeued"] == 30 + LIVE and lost["left for later"] == 0
    assert (queued(app, "live"), queued(app, "bulk")) == (4 * LIVE, 1)


def test_a_chunk_out_of_time_puts_what_it_did_not_start_back_in_the_queue(engine_values, fake):
    settings = make_settings(**{**engine_values, "twilio_rate": "20/second", "chunk_seconds": 0.5,
                                "send_threads": 2})
    add_subscribers(settings, 40, email=False)
    sid = approved_statement(settings)
    ids: list[int] = []
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda _, d: ids.extend(d))
    sms = [d for d in ids if delivery(settings, d).channel == "sms"]
    requeued: list[int] = []

    tally = chunk.send_chunk(settings, sms, requeue=lambda _, d: requeued.extend(d) or len(d))

    sent = fake.counts()["sms"]
    assert 0 < tally["sent"] < 40 and tally["sent"] + tally["pending"] == 40
    assert sum(sent.values()) == tally["sent"] and set(sent.values()) == {1}
    assert sorted(requeued) == sorted(d for d in sms if delivery(settings, d).status == "pending")
    assert {delivery(settings, d).attempts for d in requeued} == {0}  # released, not attempted
    unhurried = settings.model_copy(update={"chunk_seconds": 60, "twilio_rate": "1000/second"})
    assert chunk.send_chunk(unhurried, requeued) == {"sent": len(requeued)}
    assert len(fake.counts()["sms"]) == 40 and set(fake.counts()["sms"].values()) == {1}


def test_a_chunk_interrupted_by_its_time_limit_leaves_nothing_sending(engine_values, fake, monkeypatch):
    settings = make_settings(**{**engine_values, "twilio_rate": "20/second", "send_threads": 2})
    add_subscribers(settings, 20, email=False)
    ids: list[int] = []
    sid = approved_statement(settings)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda _, d: ids.extend(d))
    sms = [d for d in ids if delivery(settings, d).channel == "sms"]
    real_next_outcomes, real_send_batch, batches = chunk.next_outcomes, send_threads.send_batch, []

    def interrupted_once(results):  # what Celery's soft time limit does to the waiting task
        monkeypatch.setattr(chunk, "next_outcomes", real_next_outcomes)
        wait_until(lambda: sum(fake.counts()["sms"].values()) >= 1, 60, "a first SMS")
        raise TimeoutError("soft time limit")

    def send_batch(settings, batch, targets, fields, context, stop, wanted):
        # Past the third batch, none starts before the chunk has stopped: a 0.3 s sleep before the
        # interruption let a busy machine's send threads send all twenty first.
        batches.append(1)
        if len(batches) > 3:
            wait_until(stop.is_set, 60, "the chunk to stop")
        return real_send_batch(settings, batch, targets, fields, context, stop, wanted)

    monkeypatch.setattr(chunk, "next_outcomes", interrupted_once)
    monkeypatch.setattr(send_threads, "send_batch", send_batch)
    with pytest.raises(TimeoutError):
        chunk.send_chunk(settings, sms)

    statuses = [delivery(settings, d).status for d in sms]
    assert "sending" not in statuses and 0 < statuses.count("sent") < 20
    assert statuses.count("sent") + statuses.count("pending") == 20
    assert sum(fake.counts()["sms"].values()) == statuses.count("sent")  # in-flight sends were recorded


def test_a_write_that_fails_mid_chunk_leaves_nothing_sending(engine_values, fake, monkeypatch):
    # A deadlock or a dropped database connection while one batch's outcomes are written: the task
    # fails (Celery retries it), but every outcome it has is still written, none left `sending`.
    settings = make_settings(**{**engine_values, "send_threads": 2})
    add_subscribers(settings, 20, email=False)
    ids: list[int] = []
    sid = approved_statement(settings)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda _, d: ids.extend(d))
    sms = [d for d in ids if delivery(settings, d).channel == "sms"]
    real_record, calls = send_threads.record, []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("server closed the connection unexpectedly")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(send_threads, "record", fails_once)  # the recorder's writes
    monkeypatch.setattr(send_threads.Recorder, "FLUSH_ROWS", 3)
    # 20 ms a send: the outcomes arrive over 0.2 s, never all in one 10 ms gathering (one write, no second
    # to fail, as a fast moment once made it)
    fake.faults(delay_ms=20)
    with pytest.raises(ConnectionError):
        chunk.send_chunk(settings, sms)

    statuses = [delivery(settings, d).status for d in sms]
    assert "sending" not in statuses
    assert statuses.count("sent") == sum(fake.counts()["sms"].values()) > 0
    assert statuses.count("sent") + statuses.count("pending") == 20


def test_later_updates_of_an_incident_are_posted_as_a_thread_on_x(settings, workers, fake):
    workers.start()
    v1 = approved_statement(settings)
    publish_and_wait(settings, v1)
    incident_id = statements.get_statement(settings, v1)["incident_id"]
    v2 = approved_statement(settings, headline="We found the cause", incident_id=incident_id)
    publish_and_wait(settings, v2)
    first, second = fake.counts()["x"]
    assert first["in_reply_to_tweet_id"] is None
    assert second["in_reply_to_tweet_id"] == first["id"]
    assert "We found the cause" in second["text"]
