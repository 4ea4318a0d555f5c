"""Every send goes through the engine: an approval request, a holding link and a sign-up confirmation
are messages, each a delivery with its kind and the hash of its words, logged, retried after a
provider error and reconciled, never sent twice; their secrets are never stored nor logged."""

import json
import os
import re
import subprocess

from sqlalchemy import select, update

from broadcaster.approvals import by_phone, decisions
from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.chunk import send_now
from broadcaster.delivery.enqueue import enqueue, enqueue_due
from broadcaster.delivery.sendlog import send_log
from broadcaster.domain.delivery_status import legal_history
from broadcaster.domain.hashing import sha256_of
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, DeliveryEvent, Message
from tests.conftest import actor, add_user, make_settings
from tests.integration.approval_data import submitted_v1
from tests.integration.engine import Workers, as_env, illegal_histories, provider_settings, wait_until

BOB = "+14155550177"


def submitted(settings) -> int:
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], phone=BOB)
    return submitted_v1(settings)


def history(settings, delivery_id: int) -> list[str]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(DeliveryEvent.status).where(DeliveryEvent.delivery_id == delivery_id)
                              .order_by(DeliveryEvent.id)))


def test_an_approval_sms_is_logged_retried_after_a_provider_500_and_sent_once_by_real_workers(
        database_url, redis_broker, fake, tmp_path):
    values = {"database_url": database_url, "broker_url": redis_broker, **provider_settings(fake.url),
              "sweep_interval_seconds": 1, "backoff_base_seconds": 0.2}
    settings = make_settings(**values)
    sid = submitted(settings)
    fake.faults(fail_next=1, status=500, provider="twilio")  # Twilio answers 500 once: maybe sent, maybe not
    workers = Workers(as_env(values), tmp_path)
    try:
        workers.start(concurrency=1)
        [sms] = [one for one in by_phone.notify_approvers(settings, sid, dispatch=enqueue) if one.kind == "sms"]

        def sent() -> bool:
            sweeping.sweep(settings, enqueue_due)  # what beat does: reconcile the unknown, requeue the retry
            return history(settings, sms.delivery_id)[-1] == "sent"

        wait_until(sent, 60, "the approval SMS to be reconciled and sent again", poll=0.5)
    finally:
        workers.stop_all()
    statuses = history(settings, sms.delivery_id)
    assert statuses[:3] == ["pending", "sending", "unknown"] and "retry" in statuses and legal_history(statuses)
    assert illegal_histories(settings) == {}
    texts = [m["body"] for m in fake.messages()["sms"] if m["to"] == BOB]
    assert len(texts) == 1 and sms.secret in texts[0]  # the 500 sent nothing; the retry sent it, once

    # `broadcaster log` shows it with its kind, status and the hash of its words, which the log proves.
    env = {**os.environ, **as_env(values)}
    shown = json.loads(subprocess.run(["broadcaster", "log", "--kind", "approval request", "--verify", "--json"],
                                      env=env, capture_output=True, text=True, check=True).stdout)
    assert [e["status"] for e in shown if e["target"] == BOB] == statuses
    assert all(e["kind"] == "approval request" and e["subject"] == f"statement:{sid}" and e["verified"]
               for e in shown)
    [line] = [e for e in send_log(settings, kind="approval request", status="sent", verify=True)
              if e["target"] == BOB]
    with transaction(settings.database_url) as s:
        message = s.get(Message, line["message_id"])
        assert line["content_hash"] == message.content_hash == sha256_of(message.fields) and line["verified"]
        assert sms.secret not in str(message.fields)  # the code is in no row: only its marker is stored

    # The code the real SMS carried approves, from Bob's phone.
    assert by_phone.approve_by_sms(settings, BOB, sms.secret, "SM" + "a" * 32) == ("approved", {})


def test_the_log_provider_records_the_words_with_their_secrets_hidden(settings):
    sid = submitted(settings)
    [sms] = [one for one in by_phone.notify_approvers(settings, sid, dispatch=send_now) if one.kind == "sms"]
    [line] = [e for e in send_log(settings, kind="approval request") if e["status"] == "simulated"]
    assert sms.secret not in line["detail"] and "[hidden]" in line["detail"] and line["target"] == BOB


def test_an_approval_request_not_yet_sent_is_withdrawn_once_the_statement_is_approved(settings):
    sid = submitted(settings)
    [sms] = [one for one in by_phone.notify_approvers(settings, sid, dispatch=lambda *_: None) if one.kind == "sms"]
    add_user(settings, "dana", ["approver"])
    decisions.approve(settings, actor(settings, "dana"), sid)
    send_now(settings, [sms.delivery_id])
    assert history(settings, sms.delivery_id) == ["pending", "cancelled"]


def test_an_expired_message_is_never_sent_late(settings):
    sid = submitted(settings)
    [sms] = [one for one in by_phone.notify_approvers(settings, sid, dispatch=lambda *_: None) if one.kind == "sms"]
    with transaction(settings.database_url) as s:
        message_id = s.get(Delivery, sms.delivery_id).message_id
        s.execute(update(Message).where(Message.id == message_id).values(expires_at=Message.created_at))
    assert sweeping.due_deliveries(settings) == []
    send_now(settings, [sms.delivery_id])
    assert history(settings, sms.delivery_id) == ["pending", "cancelled"]


def test_a_message_edited_in_the_database_is_refused_not_sent(settings):
    sid = submitted(settings)
    [sms] = [one for one in by_phone.notify_approvers(settings, sid, dispatch=lambda *_: None) if one.kind == "sms"]
    with transaction(settings.database_url) as s:
        message = s.get(Delivery, sms.delivery_id).message
        message.fields = {"text": "Reply 000000 to approve (and call +1 900 555 0100)"}
    send_now(settings, [sms.delivery_id])
    with transaction(settings.database_url) as s:
        delivery = s.get(Delivery, sms.delivery_id)
        assert (delivery.status, delivery.error_code) == ("failed", "tampered")


def test_a_code_that_would_repeat_an_approvers_live_code_is_drawn_again(settings, monkeypatch):
    from broadcaster.domain import message_secrets

    first = submitted(settings)
    codes = iter(["123456", "123456", "654321"])
    real = message_secrets.secrets_for

    def colliding(*args):
        found = real(*args)
        return message_secrets.Secrets(found.nonce, found.token, next(codes, found.code))

    monkeypatch.setattr("broadcaster.delivery.messages.secrets_for", colliding)
    [one] = [s for s in by_phone.notify_approvers(settings, first, dispatch=lambda *_: None) if s.kind == "sms"]
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Payments slow", "minor", ["Login"])
    draft = statements.draft(settings, alice, incident["id"], StatementInput(headline="Payments are slow",
                                                                            body="Checkouts take a minute."))
    statements.submit(settings, alice, draft["id"])
    [two] = [s for s in by_phone.notify_approvers(settings, draft["id"], dispatch=lambda *_: None) if s.kind == "sms"]
    assert (one.secret, two.secret) == ("123456", "654321")
    assert re.fullmatch(r"\d{6}", two.secret)
