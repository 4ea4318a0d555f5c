"""Holding statements: approved in calm times, switched on with one click (API) or by SMS
`HOLD <number> <pin>` from a registered number; refused otherwise, and audited."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

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


REFUSED = ("Nothing was switched on. From your registered phone, text HOLD, the holding statement's number and "
           "your PIN (HOLD 2 1234), or HOLD 2 for a link by email.")


def test_hold_by_sms_with_the_right_pin_switches_it_on_once(calm, client):
    settings, sid = calm
    assert sms(client, "HOLD 1 4821").startswith("Switched on")
    assert statements.get_statement(settings, sid)["state"] == "published"
    again = sms(client, "HOLD 1 4821", sid="SM2")  # the right PIN: its holder is told why nothing happened
    assert again == "Holding statement #1 is already live: nothing more to switch on."


@pytest.mark.parametrize("body, sender, reply", [
    ("HOLD 1 0000", BOB, "That PIN is not right: nothing was switched on. Check it and text HOLD 1 and your PIN "
                         "again (4 more tries for now)."),
    ("HOLD 1 4821", "+14155550199", REFUSED),  # unknown number: told nothing of numbers, statements or PINs
    ("HOLD 1 4821", "+14155550141", REFUSED),  # alice has no PIN: the same as a stranger
    ("HOLD 9 4821", BOB, "Your PIN is right, but there is no holding statement #9: nothing was switched on. The "
                         "number is in your holding email."),
    ("HOLD one 4821", BOB, REFUSED),  # not the form
])
def test_hold_by_sms_is_refused_otherwise(calm, client, body, sender, reply):
    settings, sid = calm
    assert sms(client, body, sender) == reply
    assert "dashboard" not in reply
    assert statements.get_statement(settings, sid)["state"] == "approved"


def test_a_replayed_hold_message_is_refused(calm, client):
    settings, sid = calm
    sms(client, "HOLD 1 0000", sid="SM-same")
    assert sms(client, "HOLD 1 4821", sid="SM-same") == REFUSED
    assert statements.get_statement(settings, sid)["state"] == "approved"


def test_the_pin_must_be_digits(calm):
    with pytest.raises(InvalidInput, match="4 to 10 digits"):
        holding_statements.set_pin(calm[0], "bob", "12ab")
    with pytest.raises(NotAllowed):
        holding_statements.keep(calm[0], actor(calm[0], "bob"), calm[1])  # approvers do not keep, they switch on


def test_pin_attempts_by_sms_are_limited_per_user_so_a_pin_cannot_be_guessed(calm, client):
    settings, sid = calm
    replies = [sms(client, f"HOLD 1 000{n}", sid=f"SM-guess-{n}") for n in range(5)]
    assert [r.split("(")[-1] for r in replies[:4]] == [
        "4 more tries for now).", "3 more tries for now).", "2 more tries for now).", "1 more try for now)."]
    # An hour on: "tomorrow at 00:15 UTC" from 23:00 UTC, as a reader must be told (CI runs at any hour)
    last = re.fullmatch(r"That PIN is not right: nothing was switched on\. That was the last try for now: try again "
                        r"after ((?:tomorrow at )?\d\d:\d\d UTC)\.", replies[4])
    assert last, replies[4]
    right = sms(client, "HOLD 1 4821", sid="SM-right")  # right, but over the limit: not even checked
    assert right == ("Too many PIN tries for now, so this one was not checked and nothing was switched on. "
                     f"Try again after {last.group(1)}."), right
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


def test_a_holding_links_story_is_told_at_one_moment(calm, monkeypatch):
    """Whether the link has expired and the "now" its page tells times against are one reading of the
    clock: read twice, a link expiring between them was told as working on a page already past it."""
    from broadcaster.holding import emailed_links, holding_link_story

    settings, sid = calm
    add_user(settings, "carol", ["approver"], email="carol@example.com")
    holding_statements.set_pin(settings, "carol", "2468")
    number = holding_statements.keep(settings, actor(settings, "alice"), sid)["number"]
    (sent,) = emailed_links.send_links(settings, actor(settings, "alice"), number, ["carol"])["sent"]
    link_id, token = int(sent.url.split("/hold/")[1].split("?")[0]), sent.url.split("?t=")[1]
    expires = datetime.fromisoformat(sent.expires_at)
    readings = iter([expires - timedelta(milliseconds=1)])  # the clock ticks past the expiry as the story is read
    monkeypatch.setattr(holding_link_story, "utcnow", lambda: next(readings, expires + timedelta(milliseconds=1)))
    story = holding_link_story.link_story(settings, link_id, token)
    assert (story["expired"], story["now"] >= story["expires_at"]) == (False, False)
