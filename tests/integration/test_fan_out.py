"""Publish writes the live surfaces and one fan-out job per recipient channel; the per-recipient
deliveries are written afterwards, slice by slice, idempotently. SQLite and PostgreSQL alike."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from broadcaster.delivery import fanout, progress
from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, DeliveryEvent, FanOut, Subscriber, utcnow
from tests.conftest import actor
from tests.harness import add_subscribers
from tests.integration.test_publishing import FIELDS, approved_statement


def count(settings, *where) -> int:
    with transaction(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(Delivery).where(*where))


def jobs(settings, statement_id) -> dict[str, FanOut]:
    with transaction(settings.database_url) as s:
        rows = s.scalars(select(FanOut).where(FanOut.statement_id == statement_id)).all()
        s.expunge_all()
        return {job.channel: job for job in rows}


def enqueued_nothing(_settings, _ids):
    """A dispatch that sends nothing: publish runs the fan-out here (as it does with any dispatch of
    the caller's), and the chunks it hands on go nowhere."""


def test_publish_writes_the_live_surfaces_and_leaves_the_audience_to_the_workers(settings, world):
    add_subscribers(settings, 3000)
    sid = approved_statement(settings, world)

    result = _publish_on_a_busy_broker(settings, sid)

    assert result["deliveries"] == 8  # banner, status page, IVR, X, the agent desk, Slack, Teams, Zendesk
    assert count(settings, Delivery.statement_id == sid) == 8
    assert {ch: job.status for ch, job in jobs(settings, sid).items()} == {
        "email": "running", "sms": "running", "webhook": "running"}
    counts = progress.progress(settings, sid)
    assert counts["email"]["preparing"] == 3002 and counts["sms"]["preparing"] == 3001
    assert progress.work_left(settings) >= 3


def _publish_on_a_busy_broker(settings, sid):
    """Publish as production does (dispatch=None): the jobs go to the broker, where no worker
    takes them yet (a memory broker nobody consumes)."""
    settings.broker_url = "memory://"
    return publishing.publish(settings, actor(settings, "alice"), sid, dispatch=None)


def test_fan_out_writes_every_wanted_subscriber_once_in_slices(settings, world):
    add_subscribers(settings, 25)
    settings.fan_out_slice = 4
    sid = approved_statement(settings, world)
    dispatched: list[list[int]] = []

    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda _s, ids: dispatched.append(ids))

    # 27 subscribers with an email: 26 want a Login incident (c2 wants only Billing).
    assert count(settings, Delivery.statement_id == sid, Delivery.channel == "email") == 26
    assert max(len(ids) for ids in dispatched[1:]) <= 4
    assert {ch: job.status for ch, job in jobs(settings, sid).items()} == {
        "email": "done", "sms": "done", "webhook": "done"}
    with transaction(settings.database_url) as s:
        pending_lines = s.scalar(select(func.count()).select_from(DeliveryEvent).where(
            DeliveryEvent.statement_id == sid, DeliveryEvent.status == "pending", DeliveryEvent.channel == "email"))
    assert pending_lines == 26  # each row's `pending` line in the send log, with the approved hash


def test_the_first_slice_is_one_send_chunk_so_sending_starts_early(settings, world):
    add_subscribers(settings, 25)
    settings.fan_out_slice, settings.send_chunk_size = 8, 3
    sid = approved_statement(settings, world)
    _publish_on_a_busy_broker(settings, sid)
    email = jobs(settings, sid)["email"]
    with transaction(settings.database_url) as s:
        walked = list(s.scalars(select(Subscriber.id).order_by(Subscriber.id)
                                .where(Subscriber.email.is_not(None), Subscriber.opted_out_at.is_(None))))

    for last in (2, 10, 18):  # one chunk's subscribers first, then whole slices
        assert fanout.write_next_slice(settings, email.id)
        assert jobs(settings, sid)["email"].cursor == walked[last]


def test_a_rerun_of_a_fan_out_writes_no_delivery_twice(settings, world):
    add_subscribers(settings, 10)
    settings.fan_out_slice = 3
    sid = approved_statement(settings, world)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=enqueued_nothing)
    before = count(settings, Delivery.statement_id == sid)
    job = jobs(settings, sid)["sms"]

    # A worker that died after writing slices but before its cursor moved, its job handed on.
    with transaction(settings.database_url) as s:
        s.execute(update(FanOut).where(FanOut.id == job.id).values(status="running", cursor=0, runner=None))
    again: list[int] = []
    assert fanout.fan_out(settings, job.id, lambda _s, ids: again.extend(ids)) is True

    assert again == [] and count(settings, Delivery.statement_id == sid) == before  # the unique key skipped them
    rerun = jobs(settings, sid)["sms"]
    assert rerun.status == "done" and rerun.cursor == job.cursor > 0  # it walked every subscriber again


def test_a_superseded_version_stops_fanning_out_at_its_next_slice(settings, world):
    add_subscribers(settings, 10)
    settings.fan_out_slice = 2
    v1 = approved_statement(settings, world)
    _publish_on_a_busy_broker(settings, v1)
    email = jobs(settings, v1)["email"]
    assert fanout.write_next_slice(settings, email.id)  # one slice written, then v2 goes live

    v2 = approved_statement(settings, world, fields=FIELDS.model_copy(update={"headline": "Fixed soon"}))
    publishing.publish(settings, actor(settings, "alice"), v2, dispatch=enqueued_nothing)

    assert fanout.write_next_slice(settings, email.id) is None
    assert jobs(settings, v1)["email"].status == "cancelled"
    assert count(settings, Delivery.statement_id == v1, Delivery.channel == "email") == 1  # c1 (c2: Billing)
    assert count(settings, Delivery.statement_id == v1, Delivery.status != "cancelled",
                 Delivery.channel.in_(["email", "sms", "webhook"])) == 0


def test_the_sweep_hands_a_stalled_fan_out_to_a_worker_again(settings, world):
    sid = approved_statement(settings, world)
    _publish_on_a_busy_broker(settings, sid)  # the broker lost the jobs
    with transaction(settings.database_url) as s:
        s.execute(update(FanOut).values(updated_at=utcnow() - timedelta(seconds=settings.lease_seconds + 1)))
    resumed: list[int] = []

    result = sweeping.sweep(settings, lambda *_: 0, resume_fan_outs=lambda _s, ids: resumed.extend(ids))

    assert sorted(resumed) == sorted(job.id for job in jobs(settings, sid).values())
    assert result["fan-outs resumed"] == 3
    assert sweeping.sweep(settings, lambda *_: 0, resume_fan_outs=lambda _s, ids: resumed.extend(ids))[
        "fan-outs resumed"] == 0  # not again until it stalls again


def test_every_subscriber_is_reached_when_the_fan_out_runs_here(settings, world):
    add_subscribers(settings, 30)
    settings.fan_out_slice = 7
    sid = approved_statement(settings, world)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=send_now)
    counts = progress.progress(settings, sid)
    assert counts["sms"] == {"simulated": 31} and counts["email"] == {"simulated": 31}
    assert progress.work_left(settings) == 0


def test_the_audit_counts_a_running_fan_out_as_outstanding_not_as_no_targets(settings, world):
    from broadcaster.incidents import consistency

    sid = approved_statement(settings, world)
    _publish_on_a_busy_broker(settings, sid)

    [incident] = consistency.consistency_report(settings)["incidents"]
    assert incident["live_statement_id"] == sid
    assert incident["channels"]["sms"]["state"] == "behind" and incident["channels"]["sms"]["outstanding"] == 1
    assert incident["drift"] is True


@pytest.fixture
def email_job(settings, world):
    """A published statement's email fan-out, not started: (statement id, job)."""
    add_subscribers(settings, 10)
    settings.fan_out_slice = 3
    sid = approved_statement(settings, world)
    _publish_on_a_busy_broker(settings, sid)
    return sid, jobs(settings, sid)["email"]


def test_a_second_task_leaves_a_fan_out_another_live_task_is_writing(settings, email_job):
    sid, email = email_job
    assert fanout.write_next_slice(settings, email.id, runner="first")
    assert fanout.write_next_slice(settings, email.id, runner="second") is None  # e.g. the sweep's copy
    assert jobs(settings, sid)["email"].runner == "first"
    assert fanout.write_next_slice(settings, email.id, runner="first")


def test_a_silent_runner_is_replaced_and_stops_when_it_comes_back(settings, email_job):
    sid, email = email_job
    assert fanout.write_next_slice(settings, email.id, runner="first")
    with transaction(settings.database_url) as s:  # its continuation waited on the broker past a lease
        s.execute(update(FanOut).values(updated_at=utcnow() - timedelta(seconds=settings.lease_seconds + 1)))

    assert fanout.write_next_slice(settings, email.id, runner="second")
    assert fanout.write_next_slice(settings, email.id, runner="first") is None
    assert fanout.fan_out(settings, email.id, lambda *_: None, runner="second") is True
    assert jobs(settings, sid)["email"].status == "done"
    assert count(settings, Delivery.statement_id == sid, Delivery.channel == "email") == 11  # each once


def test_a_fan_out_whose_runner_died_is_finished_by_the_task_the_sweep_hands_it_to(settings, email_job):
    sid, email = email_job
    assert fanout.write_next_slice(settings, email.id, runner="killed")  # then its worker is SIGKILLed
    with transaction(settings.database_url) as s:
        s.execute(update(FanOut).values(updated_at=utcnow() - timedelta(seconds=settings.lease_seconds + 1)))
    resumed: list[int] = []
    sweeping.sweep(settings, lambda *_: 0, resume_fan_outs=lambda _s, ids: resumed.extend(ids))
    assert email.id in resumed

    # The task the sweep enqueued arrives at once, with a token of its own.
    assert fanout.fan_out(settings, email.id, lambda *_: None, runner="resumed") is True
    assert jobs(settings, sid)["email"].status == "done"
    assert count(settings, Delivery.statement_id == sid, Delivery.channel == "email") == 11


def test_a_redelivered_fan_out_task_keeps_its_runner(settings, email_job, monkeypatch):
    """acks_late: a task whose worker died is delivered again with the same arguments, so the
    token is minted when the job is enqueued, not inside the task."""
    from broadcaster.delivery import enqueue

    _sid, email = email_job
    sent: list[list] = []

    class Broker:
        def send_task(self, name, args, queue):
            sent.append(args)

    monkeypatch.setattr(enqueue, "app_for", lambda _settings: Broker())
    enqueue.enqueue_fan_outs(settings, [email.id])
    [(job_id, runner)] = sent
    assert job_id == email.id and runner
    assert fanout.write_next_slice(settings, email.id, runner=runner)
    assert fanout.write_next_slice(settings, email.id, runner=runner)  # the redelivered copy carries on
