"""Provider callbacks and opt-outs as use cases, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select

from broadcaster.audience import unsubscribe
from broadcaster.delivery import receipts
from broadcaster.domain.errors import NotAllowed
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from tests.integration.rows import (
    delivery,
    event_count,
    events,
    make_delivery,
    make_statement,
    make_subscriber,
    subscriber,
)

SID = "SM" + "0" * 32


@pytest.fixture
def statement(settings) -> int:
    return make_statement(settings)


def twilio(status: str, sid: str = SID, **extra) -> dict:
    return {"MessageSid": sid, "MessageStatus": status, "To": "+14155550123", **extra}


def test_twilio_delivered_moves_the_delivery_to_delivered_and_logs_it(settings, statement):
    d = make_delivery(settings, statement, provider_message_id=SID)

    assert receipts.twilio_status(settings, twilio("delivered")) == "delivered"

    assert delivery(settings, d).status == "delivered"
    assert events(settings, d) == ["delivered"]


def test_twilio_failed_keeps_the_error_code(settings, statement):
    d = make_delivery(settings, statement, provider_message_id=SID)

    assert receipts.twilio_status(settings, twilio("failed", ErrorCode="30006")) == "failed"

    row = delivery(settings, d)
    assert (row.status, row.error_code) == ("failed", "30006")
    assert events(settings, d) == ["failed"]


@pytest.mark.parametrize("reported", ["queued", "accepted", "sending", "sent"])
def test_twilio_intermediate_statuses_change_nothing(settings, statement, reported):
    d = make_delivery(settings, statement, provider_message_id=SID)

    assert receipts.twilio_status(settings, twilio(reported)) == "ignored"

    assert delivery(settings, d).status == "sent"
    assert events(settings, d) == []


def test_a_final_state_is_never_left(settings, statement):
    d = make_delivery(settings, statement, provider_message_id=SID)
    receipts.twilio_status(settings, twilio("delivered"))

    assert receipts.twilio_status(settings, twilio("failed", ErrorCode="30003")) == "ignored"
    assert receipts.twilio_status(settings, twilio("delivered")) == "ignored"  # Twilio repeats itself

    assert delivery(settings, d).status == "delivered"
    assert events(settings, d) == ["delivered"]


def test_unknown_twilio_message_is_reported_not_raised(settings, statement):
    make_delivery(settings, statement, provider_message_id=SID)

    assert receipts.twilio_status(settings, twilio("delivered", sid="SM" + "f" * 32)) == "no such message"
    assert event_count(settings) == 0


def test_twilio_callback_finds_its_delivery_by_id_before_the_sid_is_stored(settings, statement):
    # The worker records sids when its whole chunk is done; the receipt may come first.
    d = make_delivery(settings, statement, status="sending")

    assert receipts.twilio_status(settings, twilio("delivered"), delivery_id=d) == "delivered"

    row = delivery(settings, d)
    assert (row.status, row.provider_message_id) == ("delivered", SID)


def test_twilio_callback_for_another_message_of_the_same_delivery_is_unknown(settings, statement):
    d = make_delivery(settings, statement, provider_message_id="SM" + "1" * 32)

    assert receipts.twilio_status(settings, twilio("delivered"), delivery_id=d) == "no such message"
    assert delivery(settings, d).status == "sent"


def sendgrid(kind: str, delivery_id: int | str, email: str = "c1@example.com", **extra) -> dict:
    return {"event": kind, "delivery_id": str(delivery_id), "email": email, "timestamp": 1700000000,
            "sg_message_id": "abc.filter0001", **extra}


def test_sendgrid_bounce_marks_the_delivery_bounced_with_the_smtp_status(settings, statement):
    d = make_delivery(settings, statement, channel="email", target="c1@example.com", provider="sendgrid")

    counts = receipts.sendgrid_events(settings, [sendgrid("bounce", d, status="5.1.1", reason="no such user")])

    row = delivery(settings, d)
    assert counts == {"bounced": 1}
    assert (row.status, row.error_code, row.error_message) == ("bounced", "5.1.1", "no such user")
    assert events(settings, d) == ["bounced"]


def test_sendgrid_batch_counts_each_outcome(settings, statement):
    ids = [make_delivery(settings, statement, channel="email", target=f"c{n}@example.com", provider="sendgrid")
           for n in range(3)]
    batch = [sendgrid("processed", ids[0]), sendgrid("delivered", ids[0]), sendgrid("open", ids[0]),
             sendgrid("dropped", ids[1], reason="Bounced Address"), sendgrid("delivered", ids[1]),
             sendgrid("delivered", 999999), sendgrid("deferred", ids[2]), "not an event"]

    counts = receipts.sendgrid_events(settings, batch)

    assert counts == {"ignored": 5, "delivered": 1, "undelivered": 1, "no such message": 1}
    assert [delivery(settings, i).status for i in ids] == ["delivered", "undelivered", "sent"]
    assert [events(settings, i) for i in ids] == [["delivered"], ["undelivered"], []]


def test_sendgrid_unsubscribe_opts_the_subscriber_out_and_cancels_what_is_unsent(settings, statement):
    person = make_subscriber(settings, email="Pat@example.com", phone="+14155550123")
    sent = make_delivery(settings, statement, channel="email", target="Pat@example.com", provider="sendgrid")
    unsent_sms = make_delivery(settings, statement, channel="sms", target="+14155550123", status="pending")

    counts = receipts.sendgrid_events(settings, [sendgrid("spamreport", sent, email="pat@example.com")])

    assert counts == {"opted out": 1}
    assert subscriber(settings, person).opted_out_at is not None
    assert delivery(settings, unsent_sms).status == "cancelled"
    assert events(settings, unsent_sms) == ["cancelled"]
    with transaction(settings.database_url) as s:
        assert s.scalars(select(AuditEvent.subject).where(AuditEvent.action == "opt out")).all() == [
            f"subscriber:{person}"]


def test_unsubscribe_link_opts_out_the_recipient_once(settings, statement):
    person = make_subscriber(settings, email="c1@example.com")
    d = make_delivery(settings, statement, channel="email", target="c1@example.com", provider="sendgrid")
    token = unsubscribe.token_of_delivery(settings, d)

    first = unsubscribe.unsubscribe(settings, d, token)
    opted_out_at = subscriber(settings, person).opted_out_at
    second = unsubscribe.unsubscribe(settings, str(d), token)

    assert (first.subscriber_id, first.already, second.already) == (person, False, True)
    assert opted_out_at is not None
    assert subscriber(settings, person).opted_out_at == opted_out_at  # the first request is the one on record


@pytest.mark.parametrize("token", ["", "0" * 32, None])
def test_bad_unsubscribe_token_changes_nothing(settings, statement, token):
    person = make_subscriber(settings, email="c1@example.com")
    d = make_delivery(settings, statement, channel="email", target="c1@example.com", provider="sendgrid")

    with pytest.raises(NotAllowed, match="unsubscribe link is not valid"):
        unsubscribe.unsubscribe(settings, d, token)

    assert subscriber(settings, person).opted_out_at is None


def test_one_deliverys_token_does_not_open_another(settings, statement):
    make_subscriber(settings, email="c1@example.com")
    first = make_delivery(settings, statement, channel="email", target="c1@example.com", provider="sendgrid")
    other = make_delivery(settings, statement, channel="email", target="c2@example.com", provider="sendgrid")

    with pytest.raises(NotAllowed):
        unsubscribe.unsubscribe(settings, other, unsubscribe.token_of_delivery(settings, first))


def test_an_unsubscribe_link_cannot_be_forged_from_the_delivery_id_alone(settings, statement):
    """Ids are sequential; the link also signs a random nonce stored with each delivery, so even
    the secret key (the old default `change-me`, say) and an id make no valid link."""
    import hashlib
    import hmac as hmac_

    person = make_subscriber(settings, email="c1@example.com")
    d = make_delivery(settings, statement, channel="email", target="c1@example.com", provider="sendgrid")
    by_id_only = hmac_.new(settings.secret_key.encode(), f"unsubscribe:{d}".encode(), hashlib.sha256).hexdigest()[:32]

    with pytest.raises(NotAllowed, match="unsubscribe link is not valid"):
        unsubscribe.unsubscribe(settings, d, by_id_only)
    assert subscriber(settings, person).opted_out_at is None


def test_every_delivery_gets_its_own_random_link_nonce(settings, statement):
    first = make_delivery(settings, statement, channel="email", target="c1@example.com", provider="sendgrid")
    second = make_delivery(settings, statement, channel="email", target="c2@example.com", provider="sendgrid")
    nonces = {delivery(settings, first).link_nonce, delivery(settings, second).link_nonce}
    assert len(nonces) == 2 and all(n and len(n) == 32 for n in nonces)


@pytest.mark.parametrize("delivery_id", ["0", "-1", "9223372036854775808", "x"])
def test_an_unsubscribe_link_with_an_impossible_id_is_simply_not_valid(settings, delivery_id):
    with pytest.raises(NotAllowed, match="unsubscribe link is not valid"):
        unsubscribe.unsubscribe(settings, delivery_id, "0" * 32)


def test_an_unsubscribe_token_that_is_not_ascii_is_simply_not_valid(settings, statement):
    """compare_digest refuses a str that is not ASCII with a TypeError (a 500 for an edited link)."""
    make_subscriber(settings, email="c1@example.com")
    d = make_delivery(settings, statement, channel="email", target="c1@example.com", provider="sendgrid")

    with pytest.raises(NotAllowed, match="unsubscribe link is not valid"):
        unsubscribe.unsubscribe(settings, d, "é" * 32)
