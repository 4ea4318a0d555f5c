"""Holding statements: approved in calm times, switched on with one click (API) or by SMS
`HOLD <number> <pin>` from a registered number; refused otherwise, and audited."""

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from broadcaster.approvals import decisions
from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.holding import holding_statements
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.web.app import create_app
from tests.conftest import actor, add_user, make_settings
from tests.integration.holding_data import approved_holding_statement

PUBLIC_URL = "https://broadcaster.example.com"
TOKEN = "twilio-auth-token"
BOB = "+14155550142"


@pytest.fixture
def calm(database_url):
    """Alice wrote a holding statement, Bob approved it; Bob has a PIN."""
    settings = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TOKEN)
    add_user(settings, "alice", ["author"], phone="+14155550141")
    add_user(settings, "bob", ["approver"], phone=BOB)
    holding_statements.set_pin(settings, "bob", "4821")
    return settings, approved_holding_statement(settings)


def test_an_approved_statement_is_kept_and_listed_by_number(calm):
    settings, sid = calm
    kept = holding_statements.keep(settings, actor(settings, "alice"), sid)
    assert [h["number"] for h in holding_statements.ready(settings)] == [kept["number"]]


def test_a_statement_with_a_next_update_time_cannot_be_kept(calm):
    settings, _ = calm
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Checkout", "minor")
    draft = statements.draft(settings, alice, incident["id"], StatementInput(headline="H", body="B", next_update="30m"))
    submitted = statements.submit(settings, alice, draft["id"])
    decisions.approve(settings, actor(settings, "bob"), draft["id"], submitted["content_hash"])
    with pytest.raises(InvalidInput, match="next_update: a holding statement waits"):
        holding_statements.keep(settings, alice, draft["id"])


def test_an_approver_switches_it_on_though_they_cannot_publish_otherwise(calm):
    settings, sid = calm
    number = holding_statements.keep(settings, actor(settings, "alice"), sid)["number"]
    dispatched = []
    result = holding_statements.activate(settings, actor(settings, "bob"), number,
                                         lambda s, ids: dispatched.append(ids))
    assert result["state"] == "published" and dispatched and holding_statements.ready(settings) == []


def sms(client, body: str, sender: str = BOB, sid: str = "SM1"):
    form = {"From": sender, "Body": body, "MessageSid": sid}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/inbound", form)
    answer = client.post("/webhooks/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature})
    return ET.fromstring(answer.text).find("Message").text


@pytest.fixture
def client(calm):
    settings, sid = calm
    holding_statements.keep(settings, actor(settings, "alice"), sid)
    app = create_app(settings)
    app.state.dispatch = lambda settings, ids: None
    with TestClient(app) as client:
        yield client


def test_hold_by_sms_with_the_right_pin_switches_it_on_once(calm, client):
    settings, sid = calm
    assert sms(client, "HOLD 1 4821").startswith("Switched on")
    assert statements.get_statement(settings, sid)["state"] == "published"
    assert sms(client, "HOLD 1 4821", sid="SM2").startswith("Sorry")  # nothing left to switch on


@pytest.mark.parametrize("body, sender, message_sid", [
    ("HOLD 1 0000", BOB, "SM1"),  # wrong PIN
    ("HOLD 1 4821", "+14155550199", "SM1"),  # unknown number
    ("HOLD 1 4821", "+14155550141", "SM1"),  # alice has no PIN
    ("HOLD 9 4821", BOB, "SM1"),  # no such holding statement
    ("HOLD one 4821", BOB, "SM1"),  # not the form
])
def test_hold_by_sms_is_refused_otherwise(calm, client, body, sender, message_sid):
    settings, sid = calm
    assert sms(client, body, sender, message_sid).startswith("Sorry")
    assert statements.get_statement(settings, sid)["state"] == "approved"


def test_a_replayed_hold_message_is_refused(calm, client):
    settings, sid = calm
    sms(client, "HOLD 1 0000", sid="SM-same")
    assert sms(client, "HOLD 1 4821", sid="SM-same").startswith("Sorry")
    assert statements.get_statement(settings, sid)["state"] == "approved"


def test_the_pin_must_be_digits(calm):
    with pytest.raises(InvalidInput, match="4 to 10 digits"):
        holding_statements.set_pin(calm[0], "bob", "12ab")
    with pytest.raises(NotAllowed):
        holding_statements.keep(calm[0], actor(calm[0], "bob"), calm[1])  # approvers do not keep, they switch on


def test_pin_attempts_by_sms_are_limited_per_user_so_a_pin_cannot_be_guessed(calm, client):
    settings, sid = calm
    for n in range(5):
        assert sms(client, f"HOLD 1 000{n}", sid=f"SM-guess-{n}").startswith("Sorry")
    assert sms(client, "HOLD 1 4821", sid="SM-right").startswith("Sorry")  # right, but over the limit
    assert statements.get_statement(settings, sid)["state"] == "approved"


def test_the_cli_keeps_emails_links_and_switches_a_holding_statement_on(calm, monkeypatch):
    from typer.testing import CliRunner

    from broadcaster.cli import app as cli_app
    from broadcaster.config import get_settings

    settings, sid = calm
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BROADCASTER_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        kept = runner.invoke(cli_app, ["holding", "keep", str(sid), "--as", "alice"])
        assert kept.exit_code == 0, kept.output
        assert "holding statement #1" in kept.output and "no link for bob: no email address" in kept.output
        listed = runner.invoke(cli_app, ["holding", "list"])
        assert "#1" in listed.output and "We are aware of problems logging in" in listed.output
        refused = runner.invoke(cli_app, ["holding", "links", "1", "--to", "alice", "--as", "alice"])
        assert "alice cannot get a link: no email address" in str(refused.exception)
        switched = runner.invoke(cli_app, ["holding", "activate", "1", "--as", "bob", "--no-wait"])
        assert switched.exit_code == 0, switched.output
        assert f"statement {sid} published" in switched.output
    finally:
        get_settings.cache_clear()
    assert statements.get_statement(settings, sid)["state"] == "published"
