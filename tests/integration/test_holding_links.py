"""Switching on a holding statement from an emailed link: a standing link per person, emailed
through SendGrid's SDK (to the fake provider, over HTTP), to a confirm page that shows every
channel's words; only its POST with the person's PIN switches the statement on, once. Expired,
reused, revoked, for other words, for someone who lost the role or the address, forged, or opened
by GET only: refused, answered on the page, and audited. An email that fails leaves the person
the link they had; with no email provider nothing is said to be sent, and no secret is logged."""

import html
import logging
import re
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from broadcaster.delivery.chunk import send_now
from broadcaster.domain.errors import InvalidInput
from broadcaster.holding import emailed_links, holding_statements
from broadcaster.incidents import consistency, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import users
from broadcaster.store.access_models import HoldingLink
from broadcaster.store.db import transaction
from broadcaster.store.models import Approval, AuditEvent, Delivery, Statement, User, utcnow
from broadcaster.web.app import create_app
from tests.conftest import actor, add_subscriber, add_user, make_settings
from tests.fakes.server import running_fake
from tests.integration.holding_data import approved_holding_statement

PUBLIC_URL = "https://broadcaster.example.com"
TWILIO_TOKEN = "twilio-auth-token"
BOB_PHONE = "+14155550142"
READY = "Holding statement #1 (“Login problems”) is not live: it is still ready to be switched on."


@pytest.fixture(scope="module")
def sendgrid():
    """The fake provider, for SendGrid (the links' emails go through the official SDK)."""
    with running_fake() as server:
        yield server


@pytest.fixture
def calm(database_url, sendgrid):
    """Alice (author) wrote a holding statement, Bob (approver) approved it; both have a PIN and an
    email; Carol (author) has an email but no PIN; Sam (social) may not switch anything on."""
    sendgrid.reset()
    settings = make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TWILIO_TOKEN,
                             sendgrid_api_key="SG.test", sendgrid_host=sendgrid.url, sendgrid_rate="100000/second")
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com", phone=BOB_PHONE)
    add_user(settings, "carol", ["author"], email="carol@example.com")
    add_user(settings, "sam", ["social"], email="sam@example.com")
    holding_statements.set_pin(settings, "alice", "1357")
    holding_statements.set_pin(settings, "bob", "4821")
    add_subscriber(settings, email="customer@example.com", phone="+14155550123")
    statement_id, alice = approved_holding_statement(settings), actor(settings, "alice")
    number = holding_statements.keep(settings, alice, statement_id)["number"]
    sent = emailed_links.send_links(settings, alice, number)
    return settings, statement_id, number, sent


@pytest.fixture
def client(calm):
    app = create_app(calm[0])
    app.state.dispatch = send_now  # the live surfaces and the fan-out, sent in this process
    with TestClient(app) as client:
        yield client


def link_of(sent: dict, user: str) -> tuple[str, str]:
    """(path, token) of the link `user` was emailed."""
    url = next(s.url for s in sent["sent"] if s.user == user)
    path, token = url.removeprefix(PUBLIC_URL).split("?t=")
    return path, token


def state(settings, statement_id: int) -> str:
    return statements.get_statement(settings, statement_id)["state"]


def last_audit(settings) -> tuple[str, dict]:
    with transaction(settings.database_url) as s:
        row = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        return row.action, row.detail


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


def test_the_link_opens_the_words_of_every_channel_and_only_the_post_with_the_pin_switches_it_on_once(calm, client):
    settings, sid, number, sent = calm
    path, token = link_of(sent, "bob")
    shown = client.get(f"{path}?t={token}")
    assert shown.status_code == 200 and "We are aware of problems logging in" in shown.text
    for channel in ("banner", "status_page", "x", "email", "sms", "ivr"):
        assert f'id="channel-{channel}"' in shown.text
    assert state(settings, sid) == "approved"  # opening it (a mail scanner, a preview) switched nothing on
    assert shown.headers["referrer-policy"] == "no-referrer" and "frame-ancestors 'none'" in \
        shown.headers["content-security-policy"]

    switched = client.post(path, data={"t": token, "pin": "4821"})
    assert switched.status_code == 200 and "Switched on" in switched.text
    assert state(settings, sid) == "published"
    report = consistency.consistency_report(settings)["incidents"][0]
    assert report["live_statement_id"] == sid and not report["drift"]
    current = {channel for channel, c in report["channels"].items() if c["state"] == "current"}
    assert current >= {"banner", "status_page", "x", "ivr", "email", "sms"}, report["channels"]
    with transaction(settings.database_url) as s:  # once on every channel, to every target
        per_target = s.execute(select(Delivery.channel, Delivery.target, func.count()).where(
            Delivery.statement_id == sid).group_by(Delivery.channel, Delivery.target)).all()
        assert {count for _, _, count in per_target} == {1}
        assert {"banner", "status_page", "ivr", "email", "sms"} <= {channel for channel, _, _ in per_target}
    assert last_audit(settings)[0] == "activate holding" and last_audit(settings)[1]["via"] == "email link"

    again = client.post(path, data={"t": token, "pin": "4821"})
    assert again.status_code == 403
    assert said(again, "done-title") == "You switched on holding statement #1"
    assert said(again, "where-it-stands") == "It is live now. The status page shows it."
    assert 'href="/dashboard' not in again.text  # no dashboard for someone who came by email, not logged in
    other_path, other_token = link_of(sent, "alice")
    late = client.post(other_path, data={"t": other_token, "pin": "1357"})
    assert late.status_code == 403 and said(late, "done-title") == "Holding statement #1 has been switched on"
    assert said(late, "what-happened").startswith("bob switched on holding statement #1 (“Login problems”) "
                                                  "with an emailed link at ")
    assert said(late, "to-do") == "Nothing more is needed from you. The incident's authors write the next update."


def said(response, part: str) -> str:
    """The words of the page's element `part` (an id), as a reader reads them: tags dropped, spaces joined."""
    found = re.search(rf'id="{part}"[^>]*>(.*?)</(?:h1|p)>', response.text, re.S)
    assert found, f"no #{part} on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def refused(client, settings, path: str, token: str, pin: str, why: str, statement_id: int,
            title: str = "") -> list:
    """Both the page and its POST are refused (the page titled `title`), nothing goes live, and the
    audit trail says `why`; returns both answers."""
    answers = [client.get(f"{path}?t={token}"), client.post(path, data={"t": token, "pin": pin})]
    for response in answers:
        assert response.status_code == 403 and (not title or said(response, "done-title") == title), response.text
        assert state(settings, statement_id) == "approved"
        action, detail = last_audit(settings)
        assert action.startswith("refused: ") and why in detail["reason"]
        assert "Please open the dashboard" not in response.text and 'href="/dashboard' not in response.text
    return answers


def test_an_expired_link_is_refused(calm, client):
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        s.execute(update(HoldingLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    for page in refused(client, settings, *link_of(sent, "bob"), "4821", "expired", sid,
                        "This holding link has expired"):
        assert said(page, "what-happened").endswith("Nothing was switched on with it.")
        assert said(page, "where-it-stands") == READY
        assert said(page, "to-do") == (  # bob has a registered phone: both ways without a password
            "To switch it on now, text HOLD 1 and your PIN (for example HOLD 1 1234) to the Example Co Broadcaster "
            "number from your registered phone. To get a fresh link by email instead, text HOLD 1.")
    alice_path, alice_token = link_of(sent, "alice")  # no phone: she is told so, and who can help
    assert said(client.get(f"{alice_path}?t={alice_token}"), "to-do").startswith(
        "No phone number is registered for you, so you cannot switch it on by text message.")


def test_a_forged_link_or_one_whose_row_was_rebound_to_other_words_is_refused(calm, client):
    settings, sid, _, sent = calm
    path, token = link_of(sent, "bob")
    mangled = "This holding link does not work"
    for page in refused(client, settings, path, token[:-4] + "0000", "4821", "not valid", sid, mangled):
        assert "Login problems" not in page.text and "statement #1" not in page.text  # nothing of any
    refused(client, settings, path.replace(path.rsplit("/", 1)[1], "999"), token, "4821", "not valid", sid, mangled)
    with transaction(settings.database_url) as s:  # the link's bound hash rewritten: its signature breaks
        s.execute(update(HoldingLink).values(content_hash="0" * 64))
    refused(client, settings, path, token, "4821", "not valid", sid, mangled)


def test_a_link_for_words_that_changed_behind_the_apps_back_is_refused(calm, client):
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        s.execute(update(Statement).where(Statement.id == sid).values(content_hash="f" * 64))
    refused(client, settings, *link_of(sent, "bob"), "4821", "other words", sid, "Holding statement #1 has new words")


def test_a_new_version_of_the_incident_voids_the_links(calm, client):
    settings, sid, _, sent = calm
    statements.draft(settings, actor(settings, "alice"), statements.get_statement(settings, sid)["incident_id"],
                     StatementInput(headline="Logins fail for some", next_update="none"))
    path, token = link_of(sent, "bob")
    for page in (client.get(f"{path}?t={token}"), client.post(path, data={"t": token, "pin": "4821"})):
        assert page.status_code == 403
        assert said(page, "done-title") == "Holding statement #1 can no longer be switched on"
        assert said(page, "what-happened") == ("It was never switched on: a newer version of the incident (v2) "
                                               "was written instead, so nothing of it was sent.")
        assert said(page, "where-it-stands") == "Holding statement #1 (“Login problems”) is not live."


def test_a_link_for_someone_who_lost_the_role_is_refused(calm, client):
    settings, sid, _, sent = calm
    users.set_roles(settings, actor(settings, "root"), "bob", ["social"])
    for page in refused(client, settings, *link_of(sent, "bob"), "4821", "bob cannot activate holding", sid,
                        "This holding link cannot be used"):
        assert "Login problems" not in page.text  # no longer theirs: nothing of the statement is told


def test_a_link_sent_to_an_address_the_user_no_longer_has_is_refused(calm, client):
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        s.execute(update(User).where(User.name == "bob").values(email="bob@new.example.com"))
    for page in refused(client, settings, *link_of(sent, "bob"), "4821", "that is no longer bob", sid,
                        "This holding link cannot be used"):
        assert "Login problems" not in page.text  # the old mailbox may be someone else's now


def pin_form(page: str) -> str | None:
    """The confirm page's form with its PIN field, if the page has one."""
    found = re.search(r'<form method="post".*?name="pin".*?</form>', page, re.S)
    return found.group(0) if found else None


def test_a_wrong_pin_switches_nothing_on_shows_the_form_again_and_three_revoke_the_link(calm, client):
    settings, sid, _, sent = calm
    path, token = link_of(sent, "bob")
    first = client.post(path, data={"t": token, "pin": "0000"})
    assert first.status_code == 403 and "wrong PIN for bob: 2 tries left" in first.text
    form = pin_form(first.text)  # on a phone in an outage: the PIN field again, not a page to go Back from
    assert form and f'value="{token}"' in form and "autofocus" in form
    assert "We are aware of problems logging in" in first.text
    assert last_audit(settings)[0] == "refused: activate holding by link"
    assert pin_form(client.post(path, data={"t": token, "pin": "0001"}).text)
    third = client.post(path, data={"t": token, "pin": "0002"})
    assert pin_form(third.text) is None
    assert said(third, "done-title") == "This holding link was closed after 3 wrong PINs"
    right = client.post(path, data={"t": token, "pin": "4821"})
    assert said(right, "done-title") == "This holding link was closed after 3 wrong PINs"
    assert said(right, "where-it-stands") == READY
    assert said(right, "to-do").startswith("To switch it on now, text HOLD 1 and your PIN")
    assert state(settings, sid) == "approved"


def test_a_switch_on_that_publishing_refuses_does_not_use_the_link_up(calm, client):
    """The link's checks pass, the PIN is right, but publish refuses (here: the approval's seal no longer
    verifies): nothing goes live, the page says why with the PIN field, and the link still works."""
    settings, sid, _, sent = calm
    with transaction(settings.database_url) as s:
        seal = s.scalar(select(Approval.seal).where(Approval.statement_id == sid))
        s.execute(update(Approval).where(Approval.statement_id == sid).values(seal="0" * 64))
    path, token = link_of(sent, "bob")

    refused = client.post(path, data={"t": token, "pin": "4821"})

    assert refused.status_code == 403 and "has no valid seal" in refused.text and pin_form(refused.text)
    assert state(settings, sid) == "approved"
    assert {link["user"]: link["state"] for link in emailed_links.list_links(settings, [1])}["bob"] == "valid"
    with transaction(settings.database_url) as s:  # the cause fixed: the same link switches it on
        s.execute(update(Approval).where(Approval.statement_id == sid).values(seal=seal))
    switched = client.post(path, data={"t": token, "pin": "4821"})
    assert switched.status_code == 200 and "Switched on" in switched.text and state(settings, sid) == "published"


def test_a_fresh_link_revokes_the_older_one_and_revoke_ends_them_all(calm, client):
    settings, sid, number, sent = calm
    old_path, old_token = link_of(sent, "bob")
    fresh = emailed_links.send_links(settings, actor(settings, "bob"), number, ["bob"])
    assert [s.user for s in fresh["sent"]] == ["bob"]
    replaced = "This holding link was replaced"
    for page in refused(client, settings, old_path, old_token, "4821", "revoked", sid, replaced):
        assert said(page, "what-happened").endswith(": a newer link was emailed to you, or the links were closed "
                                                    "from the dashboard. Nothing was switched on with it.")
    assert emailed_links.revoke_links(settings, actor(settings, "alice"), number)["revoked"] == 2  # alice's, bob's new
    refused(client, settings, *link_of(fresh, "bob"), "4821", "revoked", sid)
    assert {link["state"] for link in emailed_links.list_links(settings, [number])} == {"revoked"}


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
