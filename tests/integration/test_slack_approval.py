"""Approve from Slack: on submit, each approver mapped to a Slack member gets a DM (the Slack fake) with the
word diff, the content hash and Approve / Reject buttons; a click comes back as a real HTTP request through
the app, signed as Slack signs (`v0=HMAC_SHA256(secret, "v0:{ts}:{body}")`, computed here). A valid click
approves exactly the hash shown and the DMs are updated to say who approved; a replayed, stale, badly signed,
unmapped, self-approving or superseded click changes nothing, says why and is audited."""

import hashlib
import hmac
import json
import re
import time
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from broadcaster.approvals import by_phone, decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import users
from broadcaster.store.db import transaction
from broadcaster.store.models import Approval, AuditEvent, Delivery, DeliveryEvent
from broadcaster.web.app import create_app
from tests.conftest import TEST_SECRET_KEY, actor, add_user, make_settings
from tests.fakes.chat import FakeChat
from tests.integration.engine import Workers, as_env, wait_until

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOB, CAROL, ALICE, STRANGER = "UBOB000001", "UCAROL0001", "UALICE0001", "USTRANGER1"
ROUTE = "/webhooks/slack/interactions"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the rules are decisions' own, tested on both backends there; this is the Slack door


@pytest.fixture
def chat():
    with FakeChat() as fake:
        yield fake


@pytest.fixture
def slack_settings(database_url, chat):
    return make_settings(database_url, slack_bot_token=chat.token, slack_channel="C0INCIDENT",
                         slack_api_url=chat.slack_url, slack_signing_secret=SECRET, slack_rate="100/second")


@pytest.fixture
def pending(slack_settings):
    """Alice (author, also an approver) wrote v1; Bob and Carol approve; all three are mapped in Slack."""
    settings = slack_settings
    add_user(settings, "alice", ["author", "approver"], email="alice@example.com")
    add_user(settings, "bob", ["approver"])
    add_user(settings, "carol", ["approver"])
    root = actor(settings, "root")
    for name, member in (("alice", ALICE), ("bob", BOB), ("carol", CAROL)):
        users.set_slack_id(settings, root, name, member)
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    draft = statements.draft(settings, alice, incident["id"], StatementInput(
        headline="Some customers cannot log in", body="About 1 in 5 logins fail.", next_update="30m"))
    submitted = statements.submit(settings, alice, draft["id"])
    sent = by_phone.notify_approvers(settings, draft["id"], dispatch=send_now)
    return draft["id"], submitted["content_hash"], sent


@pytest.fixture
def client(slack_settings):
    with TestClient(create_app(slack_settings)) as client:
        yield client


def dm_to(chat: FakeChat, member: str) -> dict:
    (post,) = [p for p in chat.slack_posts if p["channel"] == member]
    return post


def blocks_of(message: dict) -> list[dict]:
    return message["blocks"] if isinstance(message["blocks"], list) else json.loads(message["blocks"])


def button(message: dict, action: str) -> dict:
    actions = next(b for b in blocks_of(message) if b["type"] == "actions")
    return next(e for e in actions["elements"] if e["action_id"] == action)


def payload(member: str, value: str, action: str = "approve") -> dict:
    return {"type": "block_actions", "user": {"id": member, "username": member.lower()},
            "channel": {"id": "D0DM000001"}, "container": {"type": "message", "message_ts": "1700000000.000001"},
            "actions": [{"action_id": action, "block_id": "approval", "value": value, "type": "button"}]}


def signed(body: str, ts: str, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()


def click(client, data: dict, ts: int | None = None, secret: str = SECRET, signature: str | None = None,
          body: str | None = None):
    body = body if body is not None else urlencode({"payload": json.dumps(data)})
    stamp = str(int(time.time()) if ts is None else ts)
    return client.post(ROUTE, content=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature or signed(body, stamp, secret)})


def approvals(settings, statement_id: int) -> list[Approval]:
    with transaction(settings.database_url) as s:
        rows = list(s.scalars(select(Approval).where(Approval.statement_id == statement_id)))
        s.expunge_all()
        return rows


def refusals(settings) -> list[AuditEvent]:
    with transaction(settings.database_url) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("refused:%")).order_by(AuditEvent.id)))
        s.expunge_all()
        return rows


def state(settings, statement_id: int) -> str:
    return statements.get_statement(settings, statement_id)["state"]


def test_submit_dms_each_approver_who_may_approve_with_the_diff_the_hash_and_buttons(pending, chat, slack_settings):
    sid, content_hash, sent = pending
    assert {(s.user, s.kind, s.provider) for s in sent if s.kind == "slack"} == {("bob", "slack", "slack"),
                                                                                  ("carol", "slack", "slack")}
    assert not [p for p in chat.slack_posts if p["channel"] == ALICE]  # she wrote it: four eyes
    message = dm_to(chat, BOB)
    text = json.dumps(blocks_of(message), ensure_ascii=False)
    assert "Login failures · v1" in text and "Some customers cannot log in" in text
    assert content_hash[:12] in text and "banner" in text and "sms" in text
    assert button(message, "approve")["value"] == f"{sid}:{content_hash}"
    assert button(message, "reject")["value"] == f"{sid}:{content_hash}"
    with transaction(slack_settings.database_url) as s:
        delivery = s.scalar(select(Delivery).where(Delivery.channel == "slack", Delivery.target == BOB))
        assert delivery.status == "sent" and delivery.provider_message_id == f"{BOB}/{message['ts']}"
        assert delivery.message.kind == "approval request" and delivery.message.content_hash


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_signed_click_approves_exactly_the_hash_shown_and_the_messages_say_who(pending, chat, client,
                                                                                 slack_settings):
    sid, content_hash, _ = pending
    answer = click(client, payload(BOB, button(dm_to(chat, BOB), "approve")["value"]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["response_type"] == "ephemeral" and "You approved v1" in answer.json()["text"]
    (approval,) = approvals(slack_settings, sid)
    assert approval.content_hash == content_hash and approval.decision == "approve" and approval.seal
    assert state(slack_settings, sid) == "approved"
    wait_until(lambda: len(chat.slack_updates) == 2, 30, "both DMs updated")
    for update in chat.slack_updates:
        words = json.dumps(blocks_of(update), ensure_ascii=False)
        assert "Approved by bob" in words and '"actions"' not in words  # the buttons are gone
        assert update["channel"] in (BOB, CAROL)  # the DM's channel as recorded (the fake echoes the member)
    wait_until(lambda: chat.slack_ephemeral, 30, "the clicker told")
    assert chat.slack_ephemeral[0]["user"] == BOB and "You approved" in chat.slack_ephemeral[0]["text"]


def test_a_replayed_click_is_refused_and_changes_nothing(pending, chat, client, slack_settings):
    sid, _, _ = pending
    body = urlencode({"payload": json.dumps(payload(BOB, button(dm_to(chat, BOB), "reject")["value"], "reject"))})
    stamp = str(int(time.time()))
    first = click(client, {}, ts=int(stamp), body=body)
    assert first.status_code == 200 and state(slack_settings, sid) == "rejected"
    again = click(client, {}, ts=int(stamp), body=body)
    assert again.status_code == 400 and "replay" in again.json()["detail"]
    (rejection,) = approvals(slack_settings, sid)  # once
    assert rejection.decision == "reject" and "Rejected in Slack by bob" in rejection.comment
    assert "replay" in refusals(slack_settings)[-1].detail["reason"]
    wait_until(lambda: len(chat.slack_updates) == 2, 30, "both DMs updated")
    assert all("Rejected by bob" in json.dumps(blocks_of(u)) for u in chat.slack_updates)


def test_with_two_approvals_needed_the_first_shows_and_the_buttons_stay(database_url, chat):
    settings = make_settings(database_url, slack_bot_token=chat.token, slack_channel="C0INCIDENT",
                             slack_api_url=chat.slack_url, slack_signing_secret=SECRET,
                             approvals_by_impact={"critical": 2})
    add_user(settings, "alice", ["author"])
    for name, member in (("bob", BOB), ("carol", CAROL)):
        add_user(settings, name, ["approver"])
        users.set_slack_id(settings, actor(settings, "root"), name, member)
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Everything is down", "critical", ["Login"])
    draft = statements.draft(settings, alice, incident["id"], StatementInput(headline="Down", body="All down."))
    statements.submit(settings, alice, draft["id"])
    by_phone.notify_approvers(settings, draft["id"], dispatch=send_now)
    with TestClient(create_app(settings)) as client:
        answer = click(client, payload(BOB, button(dm_to(chat, BOB), "approve")["value"]))
    assert "1 of 2; waiting for another approver" in answer.json()["text"]
    assert state(settings, draft["id"]) == "pending_approval"
    wait_until(lambda: len(chat.slack_updates) == 2, 30, "both DMs updated")
    for update in chat.slack_updates:
        words = json.dumps(blocks_of(update), ensure_ascii=False)
        assert "Approved by bob" in words and "1 of 2 approvals" in words and '"actions"' in words


def test_a_stale_click_is_refused(pending, chat, client, slack_settings):
    sid, _, _ = pending
    answer = click(client, payload(BOB, button(dm_to(chat, BOB), "approve")["value"]), ts=int(time.time()) - 360)
    assert answer.status_code == 401 and re.match(r"stale: signed 36\d seconds ago", answer.json()["detail"])
    assert approvals(slack_settings, sid) == [] and state(slack_settings, sid) == "pending_approval"
    assert "stale" in refusals(slack_settings)[-1].detail["reason"]


def test_a_badly_signed_click_is_refused_and_counted(pending, chat, client, slack_settings):
    sid, _, _ = pending
    value = button(dm_to(chat, BOB), "approve")["value"]
    answer = click(client, payload(BOB, value), secret="not-the-signing-secret")
    assert answer.status_code == 401 and "does not match" in answer.json()["detail"]
    assert approvals(slack_settings, sid) == [] and state(slack_settings, sid) == "pending_approval"
    assert "bad signature" in refusals(slack_settings)[-1].detail["reason"]


def test_bad_signatures_are_limited_per_client(pending, chat, database_url):
    settings = make_settings(database_url, slack_bot_token=chat.token, slack_channel="C0INCIDENT",
                             slack_api_url=chat.slack_url, slack_signing_secret=SECRET,
                             secret_rate_per_source="2/hour")
    sid, _, _ = pending
    value = button(dm_to(chat, BOB), "approve")["value"]
    with TestClient(create_app(settings)) as client:
        codes = [click(client, payload(BOB, value), secret="guess").status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        assert click(client, payload(BOB, value)).status_code == 429  # even a good one, until the hour is up
    assert approvals(settings, sid) == []


def test_a_click_from_an_unmapped_slack_member_changes_nothing(pending, chat, client, slack_settings):
    sid, _, _ = pending
    answer = click(client, payload(STRANGER, button(dm_to(chat, BOB), "approve")["value"]))
    assert answer.status_code == 200 and "not linked to a Broadcaster user" in answer.json()["text"]
    assert STRANGER in answer.json()["text"]
    assert approvals(slack_settings, sid) == [] and state(slack_settings, sid) == "pending_approval"
    assert refusals(slack_settings)[-1].detail["slack_user"] == STRANGER


def test_a_mapped_user_who_is_not_an_approver_changes_nothing(pending, chat, client, slack_settings):
    sid, _, _ = pending
    add_user(slack_settings, "dave", ["author"])
    users.set_slack_id(slack_settings, actor(slack_settings, "root"), "dave", "UDAVE00001")
    answer = click(client, payload("UDAVE00001", button(dm_to(chat, BOB), "approve")["value"]))
    assert answer.status_code == 200 and "dave cannot approve: needs role approver" in answer.json()["text"]
    assert approvals(slack_settings, sid) == [] and state(slack_settings, sid) == "pending_approval"
    assert refusals(slack_settings)[-1].actor_id == actor(slack_settings, "dave").id


def test_the_author_cannot_approve_their_own_words_from_slack(pending, chat, client, slack_settings):
    sid, _, _ = pending
    answer = click(client, payload(ALICE, button(dm_to(chat, BOB), "approve")["value"]))
    assert answer.status_code == 200 and "alice wrote or edited this statement" in answer.json()["text"]
    assert approvals(slack_settings, sid) == [] and state(slack_settings, sid) == "pending_approval"
    refused = refusals(slack_settings)[-1]
    assert refused.action == "refused: approve" and refused.actor_id == actor(slack_settings, "alice").id


def test_a_click_on_words_a_newer_version_replaced_is_refused_and_says_so(pending, chat, client, slack_settings):
    sid, _, _ = pending
    old_value = button(dm_to(chat, BOB), "approve")["value"]
    alice = actor(slack_settings, "alice")
    newer = statements.edit(slack_settings, alice, sid, StatementInput(body="About 1 in 3 logins fail."))
    statements.submit(slack_settings, alice, newer["id"])
    answer = click(client, payload(BOB, old_value))
    assert answer.status_code == 200
    assert answer.json()["text"] == "v2 replaced the words you saw; open the new request."
    assert approvals(slack_settings, sid) == [] and approvals(slack_settings, newer["id"]) == []
    assert state(slack_settings, newer["id"]) == "pending_approval"
    assert refusals(slack_settings)[-1].actor_id == actor(slack_settings, "bob").id


def test_a_click_after_the_statement_was_decided_says_so(pending, chat, client, slack_settings):
    sid, _, _ = pending
    decisions.approve(slack_settings, actor(slack_settings, "carol"), sid)
    wait_until(lambda: len(chat.slack_updates) == 2, 30, "the DMs say carol approved")
    answer = click(client, payload(BOB, button(dm_to(chat, BOB), "approve")["value"]))
    assert answer.status_code == 200 and answer.json()["text"] == "v1 is already approved: nothing changed."
    assert [a.approver_id for a in approvals(slack_settings, sid)] == [actor(slack_settings, "carol").id]


def updates_to(chat: FakeChat, member: str) -> list[dict]:
    return [u for u in chat.slack_updates if u["channel"] == member]


def test_withdrawing_a_waiting_version_takes_the_buttons_off_its_requests(pending, chat, slack_settings):
    sid, _, _ = pending
    statements.withdraw(slack_settings, actor(slack_settings, "alice"), sid)
    wait_until(lambda: len(chat.slack_updates) == 2, 30, "both DMs updated")
    for member in (BOB, CAROL):
        (update,) = updates_to(chat, member)
        words = json.dumps(blocks_of(update), ensure_ascii=False)
        assert "Withdrawn before it went out: nothing to approve here." in words
        assert '"actions"' not in words  # no button left to press
        assert update["text"] == "Login failures, v1: withdrawn before it went out. Nothing to approve here."


def test_an_edit_that_replaces_an_approved_version_says_so_under_who_approved(pending, chat, slack_settings):
    sid, _, _ = pending
    decisions.approve(slack_settings, actor(slack_settings, "carol"), sid)
    wait_until(lambda: len(chat.slack_updates) == 2, 30, "the DMs say carol approved")
    newer = statements.edit(slack_settings, actor(slack_settings, "alice"), sid,
                            StatementInput(body="About 1 in 3 logins fail."))
    assert newer["version"] == 2
    wait_until(lambda: len(chat.slack_updates) == 4, 30, "the DMs say v2 replaced v1")
    for member in (BOB, CAROL):
        update = updates_to(chat, member)[-1]
        words = json.dumps(blocks_of(update), ensure_ascii=False)
        assert "Approved by carol" in words and "Replaced by v2 before it went out: nothing to approve here." in words
        assert '"actions"' not in words
        assert update["text"] == "Login failures, v1: replaced by v2 before it went out. Nothing to approve here."


def test_a_draft_that_replaces_nothing_asked_updates_no_request(pending, chat, slack_settings):
    sid, _, _ = pending
    alice = actor(slack_settings, "alice")
    statements.withdraw(slack_settings, alice, sid)
    wait_until(lambda: len(chat.slack_updates) == 2, 30, "both DMs updated")
    incident_id = statements.get_statement(slack_settings, sid)["incident_id"]
    first = statements.draft(slack_settings, alice, incident_id, StatementInput(body="Still looking."))
    statements.draft(slack_settings, alice, incident_id, StatementInput(body="Found it."))  # voids only a draft
    assert first["voided"] == []
    time.sleep(0.3)  # an update would be on its way by now
    assert len(chat.slack_updates) == 2


def submitted_for_bob(settings) -> dict:
    """Alice's draft, submitted; Bob, its one approver, mapped to his Slack member id."""
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    users.set_slack_id(settings, actor(settings, "root"), "bob", BOB)
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    draft = statements.draft(settings, alice, incident["id"], StatementInput(headline="Down", body="Down."))
    statements.submit(settings, alice, draft["id"])
    return draft


def test_unset_signing_secret_means_no_route_and_no_dm(database_url, chat):
    settings = make_settings(database_url, slack_bot_token=chat.token, slack_channel="C0INCIDENT",
                             slack_api_url=chat.slack_url)
    draft = submitted_for_bob(settings)
    assert [s.kind for s in by_phone.notify_approvers(settings, draft["id"], dispatch=send_now)] == []
    with TestClient(create_app(settings)) as client:
        assert click(client, payload(BOB, f"{draft['id']}:{'0' * 64}")).status_code == 404


def test_an_oversized_click_is_refused(pending, client):
    assert click(client, {}, body="payload=" + "x" * 300_000).status_code == 413


@pytest.mark.parametrize("backend", ["postgresql"])  # the workers' claims on the production database
def test_the_dm_goes_out_through_the_workers_as_a_logged_delivery(database_url, redis_broker, chat, tmp_path):
    values = {"database_url": database_url, "broker_url": redis_broker, "secret_key": TEST_SECRET_KEY,
              "lease_seconds": 4, "sweep_interval_seconds": 1, "slack_bot_token": chat.token,
              "slack_channel": "C0INCIDENT", "slack_api_url": chat.slack_url, "slack_signing_secret": SECRET,
              "slack_rate": "100/second"}
    settings = make_settings(**values)
    draft = submitted_for_bob(settings)
    pool = Workers(as_env(values), tmp_path)
    pool.start()
    try:
        (sent,) = by_phone.notify_approvers(settings, draft["id"])  # the broker, as on the dashboard's submit
        wait_until(lambda: [p for p in chat.slack_posts if p["channel"] == BOB], 60, "the DM to reach Slack")
        wait_until(lambda: _status(settings, sent.delivery_id) == "sent", 30, "the delivery to be recorded")
    finally:
        pool.stop_all()
    assert sent.kind == "slack" and sent.provider == "slack"
    with transaction(settings.database_url) as s:
        log = list(s.scalars(select(DeliveryEvent).where(DeliveryEvent.delivery_id == sent.delivery_id)
                             .order_by(DeliveryEvent.id)))
        message = s.get(Delivery, sent.delivery_id).message
        assert log[-1].status == "sent" and log[-1].content_hash == message.content_hash
        assert log[-1].provider_message_id.startswith(f"{BOB}/")


def _status(settings, delivery_id: int) -> str:
    with transaction(settings.database_url) as s:
        return s.get(Delivery, delivery_id).status
