"""Approval from a phone: emailed links to a confirm page, and SMS codes through the signed
inbound-SMS webhook. Refused unless right, unused, unexpired, for the current words and sender."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from broadcaster.approvals import by_phone
from broadcaster.delivery.chunk import send_now
from broadcaster.domain.clock import clock
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.access_models import ApprovalRequest
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, utcnow
from broadcaster.web.app import create_app
from tests.conftest import actor, add_user, make_settings
from tests.integration.approval_data import submitted_v1

PUBLIC_URL = "https://broadcaster.example.com"
TOKEN = "twilio-auth-token"
BOB_PHONE = "+14155550142"


@pytest.fixture
def phone_settings(database_url):
    return make_settings(database_url, public_url=PUBLIC_URL, twilio_auth_token=TOKEN, secret_key="s" * 40)


@pytest.fixture
def pending(phone_settings):
    """Alice's statement waiting for approval; Bob approves by email or SMS; Carol is an author."""
    settings = phone_settings
    add_user(settings, "alice", ["author"], email="alice@example.com", phone="+14155550141")
    add_user(settings, "bob", ["approver"], email="bob@example.com", phone=BOB_PHONE)
    add_user(settings, "carol", ["author"], phone="+14155550143")
    statement_id = submitted_v1(settings)
    sent = by_phone.notify_approvers(settings, statement_id, dispatch=send_now)
    return statement_id, {s.kind: s.secret for s in sent if s.user == "bob"}, sent


@pytest.fixture
def client(phone_settings):
    with TestClient(create_app(phone_settings)) as client:
        yield client


def state(settings, statement_id: int) -> str:
    return statements.get_statement(settings, statement_id)["state"]


def test_submit_sends_each_approver_a_link_and_a_code_through_the_log_provider(pending):
    _, secrets, sent = pending
    assert {(s.user, s.kind, s.provider) for s in sent} == {("bob", "email", "log"), ("bob", "sms", "log")}
    assert secrets["email"].startswith(f"{PUBLIC_URL}/approve/") and re.fullmatch(r"\d{6}", secrets["sms"])


def path_of(url: str) -> str:
    return url.removeprefix(PUBLIC_URL)


def test_the_link_opens_a_page_with_the_words_and_only_the_post_approves(pending, client, phone_settings):
    sid, secrets, _ = pending
    shown = client.get(path_of(secrets["email"]))
    assert shown.status_code == 200 and "Some customers cannot log in" in shown.text
    assert state(phone_settings, sid) == "pending_approval"  # opening it approved nothing
    token = secrets["email"].split("t=")[1]
    approved = client.post(path_of(secrets["email"]).split("?")[0], data={"t": token})
    assert approved.status_code == 200 and state(phone_settings, sid) == "approved"
    again = client.post(path_of(secrets["email"]).split("?")[0], data={"t": token})
    assert again.status_code == 403 and "You approved v1" in again.text


def test_the_link_rejects_with_a_reason_and_a_missing_reason_keeps_the_link(pending, client, phone_settings):
    sid, secrets, _ = pending
    path, token = path_of(secrets["email"]).split("?t=")
    again = client.post(path, data={"t": token, "decision": "reject", "comment": "  "})
    assert again.status_code == 422 and "say why" in again.text and 'id="reject"' in again.text  # the form again
    assert state(phone_settings, sid) == "pending_approval"
    rejected = client.post(path, data={"t": token, "decision": "reject", "comment": "The cause is not confirmed"})
    assert rejected.status_code == 200 and "Rejected: v1" in rejected.text and "Nothing was published" in rejected.text
    assert state(phone_settings, sid) == "rejected"
    assert statements.get_statement(phone_settings, sid)["approvals"][0]["comment"] == "The cause is not confirmed"
    assert "You rejected v1" in client.post(path, data={"t": token}).text


def test_a_forged_or_expired_link_is_refused(pending, client, phone_settings):
    sid, secrets, _ = pending
    path, token = path_of(secrets["email"]).split("?t=")
    forged = client.post(path, data={"t": token[:-4] + "0000"})
    assert forged.status_code == 403 and "This approval link does not work" in forged.text
    with transaction(phone_settings.database_url) as s:
        s.execute(update(ApprovalRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = client.post(path, data={"t": token})
    assert expired.status_code == 403 and "has expired" in expired.text
    assert state(phone_settings, sid) == "pending_approval"


def test_an_edit_voids_the_link_and_the_code(pending, client, phone_settings):
    sid, secrets, _ = pending
    statements.edit(phone_settings, actor(phone_settings, "alice"), sid, StatementInput(headline="Logins fail"))
    path, token = path_of(secrets["email"]).split("?t=")
    refused = client.post(path, data={"t": token})
    assert refused.status_code == 403
    assert "Version 1 of “Login failures” was replaced by v2" in refused.text
    assert reply(text(client, secrets["sms"], sid="SM1")) == "refused"


def test_a_withdrawn_version_s_link_says_it_no_longer_waits(pending, client, phone_settings):
    sid, secrets, _ = pending
    statements.withdraw(phone_settings, actor(phone_settings, "alice"), sid)
    path, token = path_of(secrets["email"]).split("?t=")
    refused = client.post(path, data={"t": token})
    assert refused.status_code == 403 and "Version 1 of “Login failures” was withdrawn" in refused.text
    assert state(phone_settings, sid) == "withdrawn"


def test_a_link_for_someone_no_longer_an_approver_is_refused(pending, client, phone_settings):
    sid, secrets, _ = pending
    from broadcaster.store.models import User
    with transaction(phone_settings.database_url) as s:
        s.execute(update(User).where(User.name == "bob").values(roles="author"))
    path, token = path_of(secrets["email"]).split("?t=")
    refused = client.get(f"{path}?t={token}")
    assert "Bob cannot approve" in refused.text and "Some customers" not in refused.text  # not even shown
    assert client.post(path, data={"t": token}).status_code == 403
    assert state(phone_settings, sid) == "pending_approval"


def test_a_refused_link_is_audited_whether_opened_or_posted(pending, client, phone_settings):
    _, secrets, _ = pending
    path, token = path_of(secrets["email"]).split("?t=")
    client.get(f"{path}?t=forged.{token.split('.')[1]}")
    client.post(path, data={"t": "forged"})
    with transaction(phone_settings.database_url) as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert [action for action, _ in rows] == ["refused: approve by link", "refused: open approval link"]
    assert all("not valid" in detail["reason"] for _, detail in rows)


def text(client, body: str, sender: str = BOB_PHONE, sid: str = "SM" + "a" * 32, sign: bool = True):
    form = {"From": sender, "Body": body, "MessageSid": sid}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/inbound", form)
    headers = {"X-Twilio-Signature": signature} if sign else {}
    return client.post("/webhooks/twilio/inbound", data=form, headers=headers)


def reply(response) -> str:
    message = ET.fromstring(response.text).find("Message")
    return "approved" if message is not None and message.text.startswith("Approved") else "refused"


def test_the_right_code_from_the_approvers_number_approves_once(pending, client, phone_settings):
    sid, secrets, _ = pending
    assert reply(text(client, secrets["sms"], sid="SM1")) == "approved"
    assert state(phone_settings, sid) == "approved"
    assert reply(text(client, secrets["sms"], sid="SM2")) == "refused"  # used


@pytest.mark.parametrize("case", ["unsigned", "unknown sender", "not an approver", "wrong code", "replay"])
def test_inbound_sms_approval_is_refused_and_logged(pending, client, phone_settings, case):
    sid, secrets, _ = pending
    code = secrets["sms"]
    if case == "unsigned":
        assert text(client, code, sign=False).status_code == 403
    elif case == "unknown sender":
        assert reply(text(client, code, sender="+14155550199")) == "refused"
    elif case == "not an approver":
        assert reply(text(client, code, sender="+14155550143")) == "refused"
    elif case == "wrong code":
        assert reply(text(client, str((int(code) + 1) % 10**6).zfill(6))) == "refused"
    else:
        text(client, "12", sid="SM-replayed")  # a wrong code, but the MessageSid is now seen
        assert reply(text(client, code, sid="SM-replayed")) == "refused"
    assert state(phone_settings, sid) == "pending_approval"
    if case != "unsigned":
        with transaction(phone_settings.database_url) as s:
            assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "refused: approve by SMS"


def test_stop_still_means_stop(pending, client):
    response = text(client, "STOP", sid="SM3")
    assert response.status_code == 200 and "Approved" not in response.text


def test_a_link_whose_signature_is_not_ascii_is_refused_on_the_page(pending, client, phone_settings):
    """The nonce is right, the signature edited into other characters: a page saying so, never a 500."""
    sid, secrets, _ = pending
    path, token = path_of(secrets["email"]).split("?t=")
    nonce = token.split(".")[0]
    for response in (client.get(path, params={"t": f"{nonce}.{'é' * 32}"}),
                     client.post(path, data={"t": f"{nonce}.²"})):
        assert response.status_code == 403 and "This approval link does not work" in response.text
    assert state(phone_settings, sid) == "pending_approval"


def test_the_log_provider_records_the_approval_email_without_the_links_secret(pending, phone_settings, caplog):
    """No email provider: the email is only logged, and an approval link needs no PIN, so the log must not
    hold its secret ("reading the server's log approves nothing")."""
    import logging

    sid, _, _ = pending
    with caplog.at_level(logging.INFO, logger="broadcaster.send"):
        sent = by_phone.notify_approvers(phone_settings, sid, dispatch=send_now)
    [link] = [s.secret for s in sent if s.kind == "email"]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "broadcaster.send")
    nonce, signature = link.split("?t=")[1].split(".")
    assert "/approve/" in logged and "?t=[hidden]" in logged
    assert nonce not in logged and signature not in logged


def message(response) -> str:
    return ET.fromstring(response.text).find("Message").text


def test_wrong_codes_are_limited_and_each_reply_says_what_to_do_and_when(pending, client, phone_settings):
    """Five codes an hour per approver, right or wrong (BROADCASTER_SMS_CODE_RATE_PER_USER): each wrong one
    says how many tries are left, the last when to try again; past the limit even the right code is refused,
    saying when to try again. None of them sends the approver to a dashboard they may not have."""
    sid, secrets, _ = pending
    wrong = str((int(secrets["sms"]) + 1) % 10**6).zfill(6)
    started = utcnow()
    replies = [message(text(client, wrong, sid=f"SM-wrong-{n}")) for n in range(5)]
    for reply_text, left in zip(replies[:4], ["4 more tries", "3 more tries", "2 more tries", "1 more try"],
                                strict=True):
        assert reply_text == ("That code is not right: nothing was approved. Check the digits in our text and reply "
                              f"with them ({left} for now), or use the link in your approval email.")
    last = re.fullmatch(r"That code is not right: nothing was approved\. That was the last try for now: try again "
                        r"after ((?:tomorrow at )?\d\d:\d\d UTC), or use the link in your approval email\.", replies[4])
    assert last, replies[4]
    limited = message(text(client, secrets["sms"], sid="SM-right-but-late"))
    assert limited == ("Too many codes from this number, so this one was not checked and nothing was approved. "
                       f"Try again after {last.group(1)}, or use the link in your approval email."), limited
    # An hour after the first code counted, said as the reply's moment says it: from 23:00 UTC on, an
    # hour on is "tomorrow at 00:15 UTC" (CI runs at any hour; the day may turn between two readings)
    when = {clock(started + timedelta(hours=1, minutes=m), UTC, now) for m in (-1, 0, 1) for now in (started, utcnow())}
    assert last.group(1) in when, (last.group(1), when)
    assert state(phone_settings, sid) == "pending_approval" and "dashboard" not in " ".join(replies + [limited])


def test_a_used_code_says_it_no_longer_approves(pending, client):
    _, secrets, _ = pending
    assert reply(text(client, secrets["sms"], sid="SM1")) == "approved"
    assert message(text(client, secrets["sms"], sid="SM2")).startswith(
        "That code no longer approves anything (used, expired, or the words changed), so nothing was approved.")
