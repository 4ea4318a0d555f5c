"""Emailing the standing links that switch a holding statement on: a link per person who may use it,
through SendGrid's SDK (to the fake provider, over HTTP), fresh on request (`HOLD n` by SMS, the API);
never its secret in an API answer or a log. An email that fails leaves the person the link they had;
with no email provider nothing is said to be sent, and no secret is logged. The page a link opens:
test_holding_link_confirm.py and test_holding_link_refused.py."""

import logging
import re
import threading
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from broadcaster.domain.errors import InvalidInput
from broadcaster.holding import emailed_links, holding_statements
from broadcaster.store.access_models import HoldingLink
from broadcaster.store.db import transaction
from broadcaster.web.app import create_app
from tests.conftest import actor, add_user, make_settings
from tests.integration.holding_data import approved_holding_statement
from tests.integration.holding_link_data import (
    BOB_PHONE,
    PUBLIC_URL,
    TWILIO_TOKEN,
    calm,
    client,
    last_audit,
    link_of,
    sendgrid,
    state,
)

FIXTURES = (calm, client, sendgrid)  # pytest finds them here (holding_link_data.py)


def mailed_links(sendgrid, address: str) -> list[str]:
    """The links in the emails the provider took for `address`, oldest first."""
    return [re.search(r"https://\S+/hold/\d+\?t=[\w.-]+", m["content"][0]["value"]).group(0)
            for m in sendgrid.messages()["email"] if m["to"] == address]


def test_each_person_who_may_switch_it_on_gets_a_link_and_the_others_are_told_why_not(calm, sendgrid):
    _, _, _, sent = calm
    assert {(s.user, s.email, s.provider) for s in sent["sent"]} == {
        ("alice", "alice@example.com", "sendgrid"), ("bob", "bob@example.com", "sendgrid")}
    assert mailed_links(sendgrid, "bob@example.com") == [next(s.url for s in sent["sent"] if s.user == "bob")]
    reasons = {s["user"]: s["reason"] for s in sent["skipped"]}
    assert "no PIN yet" in reasons["carol"] and reasons["root"] == "no email address"  # admins may switch it on
    assert "sam" not in reasons  # the social team is not asked



def test_a_link_is_sent_only_to_someone_who_may_use_it(calm):
    settings, _, number, _ = calm
    with pytest.raises(InvalidInput, match="users: carol cannot get a link: no PIN yet"):
        emailed_links.send_links(settings, actor(settings, "alice"), number, ["carol"])


def text(client, body: str, sender: str = BOB_PHONE, sid: str = "SM1") -> str:
    form = {"From": sender, "Body": body, "MessageSid": sid}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/inbound", form)
    answer = client.post("/webhooks/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature})
    return ET.fromstring(answer.text).find("Message").text


def valid_links(settings, user: str, number: int = 1) -> int:
    links = emailed_links.list_links(settings, [number])
    return sum(1 for link in links if link["user"] == user and link["state"] == "valid")


def test_texting_hold_and_the_number_emails_a_fresh_link_and_says_the_same_to_anyone(calm, client):
    settings, sid, number, _ = calm
    with transaction(settings.database_url) as s:
        before = s.scalar(select(func.max(HoldingLink.id)))
    reply = text(client, f"HOLD {number}")
    assert reply.startswith("If this number belongs to someone who may switch on")
    with transaction(settings.database_url) as s:  # a new link for bob, the old one revoked
        assert s.scalar(select(func.max(HoldingLink.id))) > before
    assert valid_links(settings, "bob") == 1
    assert text(client, f"HOLD {number}", sender="+14155550199", sid="SM2") == reply  # nothing told to a stranger
    assert last_audit(settings)[0] == "refused: holding link by SMS"
    assert state(settings, sid) == "approved"  # asking for a link switches nothing on


def test_holding_links_over_the_api_never_contain_the_link(calm, client):
    settings, _, number, _ = calm
    from broadcaster.people import auth

    token = auth.create_token(settings, "alice", "author")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    sent = client.post(f"/api/v1/holding/{number}/links", json={"users": ["bob"]}, headers=headers)
    assert sent.status_code == 201 and [s["user"] for s in sent.json()["sent"]] == ["bob"]
    assert "/hold/" not in sent.text and "t=" not in sent.text
    listed = client.get(f"/api/v1/holding/{number}/links", headers=headers).json()
    assert {(link["user"], link["state"]) for link in listed} >= {("bob", "valid"), ("bob", "revoked")}
    revoked = client.delete(f"/api/v1/holding/{number}/links", headers=headers)
    assert revoked.json()["revoked"] == 2 and valid_links(settings, "bob") == 0


def test_the_access_log_keeps_no_links_secret(calm, client, caplog):
    """uvicorn logs every request line; a link's `t=` would let whoever reads the log use it."""
    path, token = link_of(calm[3], "bob")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                                                 f"{path}?t={token}&x=1", "1.1", 200)
    assert token.split(".")[0] not in caplog.text and f"{path}?t=[hidden]&x=1" in caplog.text


def link_states(settings, user: str, number: int = 1) -> list[str]:
    """The states of `user`'s links, oldest first."""
    return [link["state"] for link in emailed_links.list_links(settings, [number]) if link["user"] == user]


@pytest.mark.parametrize("fault, new_state", [
    ({"invalid_emails": ["bob@example.com"]}, "not sent"),  # SendGrid refuses it: nobody has that link
    ({"fail_next": 1, "status": 503, "provider": "sendgrid"}, "unconfirmed"),  # no answer: it may still arrive
])
def test_fresh_links_whose_email_fails_leave_each_person_the_link_they_had(calm, client, sendgrid, fault, new_state):
    """In an outage that degrades SendGrid, "Email fresh links" must not take away the link in someone's
    mailbox: the older link is revoked only once the new email has gone, and the answer and the audit
    row say who really got one."""
    settings, sid, number, sent = calm
    sendgrid.faults(**fault)

    fresh = emailed_links.send_links(settings, actor(settings, "alice"), number, ["bob"])

    assert fresh["sent"] == [] and "not sent" in fresh["skipped"][0]["reason"]
    assert link_states(settings, "bob") == ["valid", new_state]
    action, detail = last_audit(settings)
    assert action == "send holding links" and detail["to"] == [] and detail["not_sent"][0]["user"] == "bob"
    path, token = link_of(sent, "bob")  # the link in bob's mailbox still works
    assert client.get(f"{path}?t={token}").status_code == 200
    sendgrid.faults(clear=True)
    again = emailed_links.send_links(settings, actor(settings, "alice"), number, ["bob"])
    assert [s.user for s in again["sent"]] == ["bob"] and last_audit(settings)[1]["to"] == ["bob"]
    assert link_states(settings, "bob")[-1] == "valid" and link_states(settings, "bob").count("valid") == 1


@pytest.mark.parametrize("round_", range(3))
def test_fresh_links_asked_for_twice_at_once_leave_one_valid_link(calm, round_):
    """Two "Email fresh links" at the same moment (two approvers' clicks, a click and a `HOLD 1` text):
    each person ends with exactly one valid link, never two."""
    settings, _, number, _ = calm
    together, errors = threading.Barrier(2), []

    def fresh(name: str) -> None:
        together.wait(timeout=30)
        try:
            emailed_links.send_links(settings, actor(settings, name), number, ["bob"])
        except Exception as exc:  # noqa: BLE001 - reported below, with the other thread's outcome
            errors.append(exc)

    threads = [threading.Thread(target=fresh, args=(name,)) for name in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert link_states(settings, "bob").count("valid") == 1 and len(link_states(settings, "bob")) == 3


def test_with_no_email_provider_links_are_said_to_be_logged_not_sent_and_no_secret_is_logged(database_url, caplog):
    """The embedded default (no SendGrid key) or BROADCASTER_SIMULATE: the `log` provider records the email
    and sends nothing. Nobody is told a link was emailed, the log holds no link's secret, and the links people
    already have keep working (a logged email reached nobody)."""
    settings = make_settings(database_url, public_url=PUBLIC_URL, sendgrid_api_key="SG.test", simulate=True)
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com")
    holding_statements.set_pin(settings, "bob", "4821")
    number = holding_statements.keep(settings, actor(settings, "alice"), approved_holding_statement(settings))["number"]

    with caplog.at_level(logging.INFO, logger="broadcaster.send"):
        first = emailed_links.send_links(settings, actor(settings, "alice"), number, ["bob"])
        second = emailed_links.send_links(settings, actor(settings, "alice"), number, ["bob"])

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "broadcaster.send")
    for result in (first, second):
        [link] = result["sent"]
        assert link.provider == "log"
        assert link.url.split("?t=")[1].split(".")[0] not in logged  # neither the nonce nor the signature
    shown = re.findall(r"/hold/\d+\?t=([^\"\s<\\]*)", logged)
    assert shown and set(shown) == {"[hidden]"}  # each link is in the log, its secret is not
    assert link_states(settings, "bob") == ["valid", "valid"]
    assert {link["provider"] for link in emailed_links.list_links(settings, [number])} == {"log"}
    assert emailed_links.summary(first)["sent"][0]["provider"] == "log"


def test_with_no_email_provider_the_cli_shows_you_your_own_link_and_nobody_elses(database_url, monkeypatch):
    """On a laptop (the embedded default) nothing can be emailed: `holding links N --to YOU --as YOU` prints
    your link in the terminal, never in a log; someone else's link is never printed."""
    from typer.testing import CliRunner

    from broadcaster.cli import app as cli_app
    from broadcaster.config import get_settings

    settings = make_settings(database_url, public_url=PUBLIC_URL)
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com")
    holding_statements.set_pin(settings, "bob", "4821")
    holding_statements.keep(settings, actor(settings, "alice"), approved_holding_statement(settings))
    for name, value in (("DATABASE_URL", database_url), ("SECRET_KEY", settings.secret_key),
                        ("PUBLIC_URL", PUBLIC_URL)):
        monkeypatch.setenv(f"BROADCASTER_{name}", value)
    get_settings.cache_clear()
    try:
        mine = CliRunner().invoke(cli_app, ["holding", "links", "1", "--to", "bob", "--as", "bob"])
        theirs = CliRunner().invoke(cli_app, ["holding", "links", "1", "--to", "bob", "--as", "alice"])
    finally:
        get_settings.cache_clear()
    assert mine.exit_code == 0 and "link for bob <bob@example.com> logged, not sent" in mine.output, mine.output
    url = re.search(r"your link: (\S+)", mine.output).group(1)
    path, token = url.removeprefix(PUBLIC_URL).split("?t=")
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{path}?t={token}").status_code == 200  # the link works
    assert "logged, not sent" in theirs.output and "your link" not in theirs.output and "?t=" not in theirs.output


def test_with_no_email_provider_texting_hold_and_the_number_says_no_link_was_sent(database_url):
    """`HOLD 1` asks for a link by email; with the `log` provider none can go, to anyone: the reply says so,
    and what works instead, the same to a registered number and a stranger."""
    settings = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TWILIO_TOKEN)
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com", phone=BOB_PHONE)
    holding_statements.set_pin(settings, "bob", "4821")
    holding_statements.keep(settings, actor(settings, "alice"), approved_holding_statement(settings))
    with TestClient(create_app(settings)) as app_client:
        replies = {text(app_client, "HOLD 1"), text(app_client, "HOLD 1", sender="+14155550199", sid="SM2")}
    assert replies == {"This Broadcaster cannot send email yet, so no link was sent. To switch it on, text HOLD, "
                       "its number and your PIN (HOLD 2 1234)."}
