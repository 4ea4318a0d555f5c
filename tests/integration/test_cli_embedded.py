"""Embedded, every command that queues work sends it from the command's own process (there is no
worker to share a broker with), and `--no-wait` means it: the command returns at once, says the
work waits for the next `serve`, and a sweep then finds it in the database. X is the fake X server
through tweepy; the rest is on the `log` provider, as a newcomer's laptop has it."""

import time

import pytest
from sqlalchemy import select

from broadcaster import social
from broadcaster.cli import main
from broadcaster.config import get_settings
from broadcaster.delivery.broker import Queue
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery
from tests.conftest import TEST_SECRET_KEY, add_user, make_settings
from tests.fakes.x_server import x_settings
from tests.integration.engine import as_env, status_counts
from tests.integration.test_cli import Result

QUEUED = "queued, not sent yet: the next `broadcaster serve` sends it"


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch, capsys):
    """`broadcaster ARGS...` in this process, on the embedded default (memory broker)."""
    monkeypatch.chdir(tmp_path)
    for key, value in {"BROADCASTER_DATABASE_URL": database_url, "COLUMNS": "200",
                       "BROADCASTER_SECRET_KEY": TEST_SECRET_KEY}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("BROADCASTER_BROKER_URL", raising=False)

    def run(*args, ok=True) -> Result:
        get_settings.cache_clear()
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        captured = capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        assert not ok or code == 0, (args, result.stdout[-2000:], result.stderr)
        return result

    yield run
    get_settings.cache_clear()
    the_command_exits()  # else what --no-wait left on the memory broker reaches the next test's worker


def the_command_exits() -> None:
    """A real command's process exits after --no-wait, and its memory broker forgets what it queued
    (the sweep finds it in the database): here, where every command runs in one process, it is purged."""
    from workers.app import celery_app

    with celery_app.connection_for_write() as connection:
        for queue in Queue:
            connection.default_channel.queue_purge(queue.value)


def _statuses(settings, statement_id: int) -> dict[str, str]:
    with transaction(settings.database_url) as s:
        return dict(s.execute(select(Delivery.channel, Delivery.status)
                              .where(Delivery.statement_id == statement_id)).all())


def _approved(cli) -> None:
    cli("init")
    cli("user", "add", "root", "--role", "admin")
    cli("user", "add", "alice", "--role", "author", "--as", "root")
    cli("user", "add", "bob", "--role", "approver", "--as", "root")
    cli("subscribers", "add", "--phone", "+14155550123", "--as", "root")
    cli("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
    cli("statement", "draft", "1", "--headline", "Slow pages", "--body", "Pages load slowly.", "--as", "alice")
    cli("submit", "1", "--as", "alice")
    cli("approve", "1", "--as", "bob")


def test_publish_no_wait_returns_at_once_and_the_sweep_sends_what_it_queued(cli, database_url, monkeypatch):
    _approved(cli)
    began = time.monotonic()
    said = cli("publish", "1", "--no-wait", "--as", "alice").stdout
    # No worker started, nothing waited for (nothing would send it: a wait would never end); the statuses
    # below say nothing was sent. The bound leaves a busy machine room.
    assert time.monotonic() - began < 30
    assert QUEUED in said.replace("\n", " ")
    settings = make_settings(database_url)
    assert set(_statuses(settings, 1).values()) == {"pending"}  # the live surfaces, written and not sent
    assert cli("audit", ok=False).returncode == 1

    the_command_exits()
    monkeypatch.setenv("BROADCASTER_SWEEP_INTERVAL_SECONDS", "0")  # a sweep a while later
    monkeypatch.setenv("BROADCASTER_LEASE_SECONDS", "0")
    cli("sweep", "--as", "alice")
    # banner, status page, IVR, agent desk; X, the SMS, Slack, Teams
    assert status_counts(settings, 1) == {"sent": 4, "simulated": 5}
    assert cli("audit").returncode == 0


def test_retry_sends_here_unless_no_wait(cli, database_url, monkeypatch):
    _approved(cli)
    cli("publish", "1", "--as", "alice")
    settings = make_settings(database_url)
    sms_failed = Delivery.__table__.update().where(Delivery.channel == "sms").values(status="failed")
    with transaction(settings.database_url) as s:  # say the SMS provider refused it
        s.execute(sms_failed)
    said = cli("retry", "1", "--failed", "--no-wait", "--as", "alice").stdout
    assert "1 delivery re-queued" in said and QUEUED in said.replace("\n", " ")
    assert _statuses(settings, 1)["sms"] == "pending"
    the_command_exits()
    monkeypatch.setenv("BROADCASTER_SWEEP_INTERVAL_SECONDS", "0")
    cli("sweep", "--as", "alice")
    assert _statuses(settings, 1)["sms"] == "simulated"

    with transaction(settings.database_url) as s:
        s.execute(sms_failed)
    said = cli("retry", "1", "--failed", "--as", "alice").stdout
    assert _statuses(settings, 1)["sms"] == "simulated" and QUEUED not in said


def test_social_reply_is_sent_from_the_command_when_embedded(cli, database_url, monkeypatch, x):
    for key, value in as_env({**x_settings(x), "x_rate": "100000/second"}).items():
        monkeypatch.setenv(key, value)
    _approved(cli)
    settings = make_settings(database_url, **x_settings(x))
    add_user(settings, "sam", ["social"])
    cli("publish", "1", "--as", "alice")
    first, second = x.mention("@acme is it down?"), x.mention("@acme slow for me", author="other")
    social.pull(settings)

    said = cli("social", "reply", first, "--as", "sam").stdout
    assert f"post {first}: reply sent" in said
    assert len(x.replies_to(first)) == 1

    said = cli("social", "reply", second, "--no-wait", "--as", "sam").stdout
    assert QUEUED in said.replace("\n", " ") and x.replies_to(second) == []
    the_command_exits()
    monkeypatch.setenv("BROADCASTER_SWEEP_INTERVAL_SECONDS", "0")
    cli("sweep", "--as", "alice")
    assert len(x.replies_to(second)) == 1 and len(x.replies_to(first)) == 1


def test_submit_sends_the_approval_requests_here_unless_no_wait(cli, database_url, monkeypatch):
    """Approvers are emailed a link and texted a code: messages through the engine, sent by the
    command embedded (the log provider records them), or left for the sweep with --no-wait."""
    cli("init")
    cli("user", "add", "root", "--role", "admin")
    cli("user", "add", "alice", "--role", "author", "--as", "root")
    cli("user", "add", "bob", "--role", "approver", "--email", "bob@example.com", "--phone", "+14155550100",
        "--as", "root")
    for incident in ("1", "2"):
        cli("incident", "open", "--title", "Outage", "--impact", "minor", "--as", "alice")
        cli("statement", "draft", incident, "--headline", "Slow pages", "--body", "Pages load slowly.", "--as", "alice")
    said = cli("submit", "1", "--as", "alice").stdout
    assert "asked bob by email (log)" in said and "asked bob by sms (log)" in said
    with transaction(database_url) as s:
        sent = s.scalars(select(Delivery.status).where(Delivery.message_id.is_not(None))).all()
    assert sorted(sent) == ["simulated", "simulated"]

    said = cli("submit", "2", "--no-wait", "--as", "alice").stdout
    assert QUEUED in said.replace("\n", " ")
    with transaction(database_url) as s:
        waiting = s.scalars(select(Delivery.id).where(Delivery.message_id.is_not(None),
                                                      Delivery.status == "pending")).all()
    assert len(waiting) == 2
    the_command_exits()
    monkeypatch.setenv("BROADCASTER_SWEEP_INTERVAL_SECONDS", "0")
    cli("sweep", "--as", "alice")
    with transaction(database_url) as s:
        assert {s.get(Delivery, i).status for i in waiting} == {"simulated"}
