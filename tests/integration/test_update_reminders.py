"""Update reminders: a live statement whose next update is due in 5 minutes, with no newer version
being written, reminds each of its authors once, through the delivery engine (in the send log with
its kind); a statement whose newer version was submitted reminds nobody. The job is periodic (beat,
and embedded `serve`)."""

from datetime import timedelta

from broadcaster.approvals import decisions
from broadcaster.delivery.broker import PERIODIC_JOBS, TaskName
from broadcaster.delivery.chunk import send_now
from broadcaster.delivery.sendlog import send_log
from broadcaster.incidents import publishing, reminders, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.models import utcnow
from tests.conftest import actor, add_user, make_settings

ALICE, DAVE = "alice@example.com", "+14155550199"


def live_incident(settings, title: str, next_update: str = "5m") -> int:
    """v1 live, written by Alice (email) and edited by Dave (phone only); its next update due in 5 minutes."""
    alice, dave = actor(settings, "alice"), actor(settings, "dave")
    incident = statements.open_incident(settings, alice, title, "major", ["Login"])
    draft = statements.draft(settings, alice, incident["id"], StatementInput(
        headline="Some customers cannot log in", body="About 1 in 5 logins fail.", next_update=next_update))
    statements.edit(settings, dave, draft["id"], StatementInput(body="About 1 in 4 logins fail."))
    statements.submit(settings, alice, draft["id"])
    decisions.approve(settings, actor(settings, "bob"), draft["id"])
    publishing.publish(settings, alice, draft["id"], dispatch=lambda *_args, **_kw: None)
    return incident["id"]


def reminded(settings) -> dict[str, str]:
    """{target: channel} of every update reminder the send log shows sent (simulated: the log provider)."""
    return {line["target"]: line["channel"] for line in send_log(settings, kind="update reminder")
            if line["status"] == "simulated"}


def test_each_author_is_reminded_once_when_the_next_update_is_near_and_nobody_is_writing_it(database_url):
    settings = make_settings(database_url, update_reminder_minutes=10)
    add_user(settings, "alice", ["author"], email=ALICE)
    add_user(settings, "dave", ["author"], phone=DAVE)
    add_user(settings, "bob", ["approver"], email="bob@example.com")
    live_incident(settings, "Login failures")

    early = make_settings(database_url, update_reminder_minutes=2)  # 5 minutes away is not yet "a few"
    assert reminders.remind_due(early, dispatch=send_now) == []

    sent = reminders.remind_due(settings, dispatch=send_now)
    assert len(sent) == 2
    assert reminded(settings) == {ALICE: "email", DAVE: "sms"}  # one per author; Bob approved, he is not one
    [email] = [line for line in send_log(settings, kind="update reminder", channel="email")
               if line["status"] == "simulated"]
    assert email["kind"] == "update reminder" and email["content_hash"]

    assert reminders.remind_due(settings, dispatch=send_now) == []  # once per version per author
    later = utcnow() + timedelta(minutes=20)  # overdue now: still not again for this version
    assert reminders.remind_due(settings, now=later, dispatch=send_now) == []
    assert len(send_log(settings, kind="update reminder", status="simulated")) == 2


def test_nobody_is_reminded_once_a_newer_version_is_submitted(database_url):
    settings = make_settings(database_url, update_reminder_minutes=10)
    add_user(settings, "alice", ["author"], email=ALICE)
    add_user(settings, "dave", ["author"], phone=DAVE)
    add_user(settings, "bob", ["approver"])
    incident_id = live_incident(settings, "Login failures")
    newer = statements.draft(settings, actor(settings, "alice"), incident_id, StatementInput(
        status="identified", body="We found the cause.", next_update="30m"))
    statements.submit(settings, actor(settings, "alice"), newer["id"])

    assert reminders.remind_due(settings, dispatch=send_now) == []
    assert reminded(settings) == {}


def test_the_reminder_job_is_periodic_so_beat_and_embedded_serve_both_run_it():
    [job] = [job for job in PERIODIC_JOBS if job.task is TaskName.UPDATE_REMINDERS]
    assert job.seconds(make_settings("sqlite://", update_reminder_interval_seconds=30)) == 30


def test_a_page_says_overdue_when_the_promised_time_has_passed():
    now = utcnow()
    live = {"state": "published", "next_update_at": (now - timedelta(minutes=1)).isoformat()}
    assert reminders.update_due(live, now, minutes=10) == "overdue"
    assert reminders.update_due({**live, "next_update_at": (now + timedelta(minutes=4)).isoformat()}, now, 10) == "soon"
    assert reminders.update_due({**live, "next_update_at": (now + timedelta(hours=1)).isoformat()}, now, 10) is None
    assert reminders.update_due({**live, "state": "superseded"}, now, 10) is None
