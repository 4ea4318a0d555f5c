"""A rotated key pauses a channel instead of failing its deliveries; every send is provable
(content hash in the log, `--verify`); the audit reports no false drift; the log pages."""

import time

import pytest
from sqlalchemy import select, update

from broadcaster.delivery import metrics, sendlog
from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.chunk import send_now
from broadcaster.delivery.pause import paused_channels
from broadcaster.incidents import consistency, publishing, statements
from broadcaster.store.db import engine_for, transaction
from broadcaster.store.models import Delivery, Rendition, Subscriber, utcnow
from tests.conftest import actor, make_settings
from tests.fakes.server import running_fake
from tests.integration.engine import add_subscribers, approved_statement, provider_settings, status_counts


@pytest.fixture(scope="module")
def fake():
    with running_fake() as server:
        yield server


@pytest.fixture
def settings(database_url, fake):
    fake.reset()
    return make_settings(database_url, **provider_settings(fake.url), channel_pause_seconds=0.5,
                         sms_notify_on="all")  # these tests follow SMS through every update


def publish(settings, sid, dispatch=send_now):
    return publishing.publish(settings, actor(settings, "alice"), sid, dispatch=dispatch)


def test_a_rotated_twilio_key_pauses_sms_and_nothing_is_failed_until_it_works_again(settings, fake):
    add_subscribers(settings, 3, email=False)
    fake.faults(fail_next=1000, provider="twilio", status=401)
    sid = approved_statement(settings)
    publish(settings, sid)

    with transaction(settings.database_url) as s:
        sms = s.scalars(select(Delivery).where(Delivery.channel == "sms")).all()
    assert {(d.status, d.error_code, d.attempts) for d in sms} == {("retry", "paused", 0)}
    assert "20003" in paused_channels(settings)["sms"]["reason"]
    report = consistency.consistency_report(settings)
    assert report["drift"] and list(report["paused"]) == ["sms"]
    body, _ = metrics.exposition(settings.database_url)
    assert b'broadcaster_channel_paused{channel="sms"' in body

    fake.faults(clear=True)
    time.sleep(0.6)  # the next probe is due
    sweeping.sweep(settings, lambda s, ids: send_now(s, ids) or len(ids))  # the probe works: resumed
    time.sleep(0.6)  # what the same chunk held back while the probe ran waits one interval more
    sweeping.sweep(settings, lambda s, ids: send_now(s, ids) or len(ids))
    assert status_counts(settings, sid) == {"sent": 5 + 3, "simulated": 3}  # Slack, Teams, Zendesk: not configured
    assert paused_channels(settings) == {}
    assert sorted(fake.counts()["sms"].values()) == [1, 1, 1]


def test_every_sent_event_is_verified_against_the_stored_words(settings):
    add_subscribers(settings, 2)
    sid = approved_statement(settings)
    publish(settings, sid)
    events = sendlog.send_log(settings, statement_id=sid, verify=True)
    assert events and all(e["verified"] for e in events)

    with engine_for(settings.database_url).begin() as connection:  # behind the app's back
        connection.execute(update(Rendition).where(Rendition.statement_id == sid, Rendition.channel == "sms")
                           .values(fields={"text": "forged"}))
    events = sendlog.send_log(settings, statement_id=sid, verify=True)
    assert events and not any(e["verified"] for e in events)
    assert consistency.consistency_report(settings)["unproven_sends"] > 0


def test_a_live_version_with_no_targets_on_a_channel_is_not_behind(settings):
    add_subscribers(settings, 1, email=False)
    v1 = approved_statement(settings)
    publish(settings, v1)
    with transaction(settings.database_url) as s:  # the only SMS subscriber leaves
        s.execute(update(Subscriber).values(opted_out_at=utcnow()))
    incident_id = statements.get_statement(settings, v1)["incident_id"]
    v2 = approved_statement(settings, headline="Logins work again", incident_id=incident_id)
    publish(settings, v2)

    report = consistency.consistency_report(settings)
    [incident] = report["incidents"]
    assert incident["channels"]["sms"]["state"] == "no targets"
    assert not report["drift"]


def test_the_log_pages_by_event_id(settings):
    add_subscribers(settings, 3)
    sid = approved_statement(settings)
    publish(settings, sid)
    everything = sendlog.send_log(settings, statement_id=sid)
    first = sendlog.send_log(settings, statement_id=sid, limit=5)
    second = sendlog.send_log(settings, statement_id=sid, limit=5, after=first[-1]["id"])
    assert [e["id"] for e in first + second] == [e["id"] for e in everything[:10]]


def test_cancelling_a_superseded_versions_unsent_rows_logs_each_once(settings):
    add_subscribers(settings, 30)
    v1 = approved_statement(settings)
    publish(settings, v1, dispatch=lambda *_: None)
    incident_id = statements.get_statement(settings, v1)["incident_id"]
    result = publish(settings, approved_statement(settings, headline="Fixed", incident_id=incident_id),
                     dispatch=lambda *_: None)
    assert result["cancelled"] == 68  # 30 email + 30 SMS + 8 live channels
    cancelled = sendlog.send_log(settings, statement_id=v1, status="cancelled")
    assert len(cancelled) == 68 and len({e["delivery_id"] for e in cancelled}) == 68
    assert status_counts(settings, v1) == {"cancelled": 68}


def cli(database_url, monkeypatch, capsys, *args) -> tuple[int, str, str]:
    from broadcaster.cli import main
    from broadcaster.config import get_settings

    monkeypatch.setenv("BROADCASTER_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_status_and_audit_say_a_channel_is_paused_and_exit_non_zero(settings, monkeypatch, capsys, tmp_path):
    from broadcaster.delivery.pause import pause

    monkeypatch.chdir(tmp_path)
    assert cli(settings.database_url, monkeypatch, capsys, "status")[0] == 0
    pause(settings, "email", "sendgrid 401: The provided authorization grant is invalid")
    code, out, _ = cli(settings.database_url, monkeypatch, capsys, "status")
    assert code == 1 and "email paused" in out and "authorization grant is invalid" in out
    assert cli(settings.database_url, monkeypatch, capsys, "audit")[0] == 1


def test_log_verify_exits_non_zero_on_a_difference(settings, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    sid = approved_statement(settings)
    publish(settings, sid)
    code, _, err = cli(settings.database_url, monkeypatch, capsys, "log", "--verify")
    assert code == 0 and "differ" not in err
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(update(Rendition).where(Rendition.statement_id == sid, Rendition.channel == "banner")
                           .values(fields={"text": "forged"}))
    code, _, err = cli(settings.database_url, monkeypatch, capsys, "log", "--verify", "--limit", "3")
    assert code == 1 and "3 differ" in err
