"""What providers and customers tell us after a send: delivery receipts, bounces, opt-outs.

- Twilio status callbacks and SendGrid event webhook batches move a delivery on to
  ``delivered``, ``undelivered``, ``failed`` or ``bounced``; every change is also a line in the
  send log. A final state is final: callbacks arrive out of order and more than once, and a
  late "sent" or a duplicate "delivered" must not rewrite what is already known.
- Opt-outs (an unsubscribe link, a SendGrid unsubscribe or spam report) set the subscriber's
  ``opted_out_at``: publish never targets them again, and their unsent deliveries are cancelled.

The signature checks live here too, as plain functions over the request's parts, so the HTTP
layer only gathers headers and bodies.
"""

import binascii
import logging
import time
from collections import Counter
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..domain.errors import InvalidInput, NotAllowed
from ..store.access_models import InboundMessage
from ..store.db import transaction
from ..store.models import Delivery, Subscriber
from ..usecase import audit_unproven, unit_of_work
from . import records
from .records import opt_out

logger = logging.getLogger("broadcaster.callbacks")

TWILIO_STATUSES = {"delivered": DeliveryStatus.DELIVERED, "undelivered": DeliveryStatus.UNDELIVERED,
                   "failed": DeliveryStatus.FAILED}
SENDGRID_STATUSES = {"delivered": DeliveryStatus.DELIVERED, "bounce": DeliveryStatus.BOUNCED,
                     "dropped": DeliveryStatus.UNDELIVERED}


class Receipt(StrEnum):
    """What became of a receipt that moved no delivery (one that did answers with the new status)."""

    IGNORED = "ignored"  # an intermediate status, or the delivery is already final
    NO_SUCH_MESSAGE = "no such message"  # nothing of ours has that id: answered without an error all the same
    OPTED_OUT = "opted out"  # an unsubscribe or a spam report: the subscriber is opted out
SENDGRID_OPT_OUTS = ("unsubscribe", "spamreport", "group_unsubscribe")


# --- signatures ----------------------------------------------------------------------------


def record_refused_callback(settings: Settings, path: str, client: str, reason: str) -> None:
    """A provider webhook refused for its signature, in the audit trail: a forgery, a replay or a
    wrong BROADCASTER_PUBLIC_URL all show up here, with where the request came from (throttled per
    client: anyone can post unsigned requests in a loop)."""
    audit_unproven(settings, "refused: provider callback", path[:200], {"reason": reason[:500]}, client)


def verify_twilio_signature(settings: Settings, url: str, params, signature: str | None) -> None:
    """Raise NotAllowed unless `signature` is Twilio's signature of `url` and the form `params`."""
    from twilio.request_validator import RequestValidator

    if not settings.twilio_auth_token:
        raise NotAllowed("Twilio callback refused: BROADCASTER_TWILIO_AUTH_TOKEN is not set, so its "
                         "X-Twilio-Signature cannot be checked")
    if not signature:
        raise NotAllowed("Twilio callback refused: the X-Twilio-Signature header is missing")
    try:
        valid = RequestValidator(settings.twilio_auth_token).validate(url, params, signature)
    except (TypeError, ValueError):  # e.g. a file upload among the form fields: not Twilio's form
        valid = False
    if not valid:
        # The URL is named because a wrong BROADCASTER_PUBLIC_URL is the usual cause.
        raise NotAllowed(f"Twilio callback refused: X-Twilio-Signature does not match the request as signed "
                         f"for {url} (check BROADCASTER_PUBLIC_URL and BROADCASTER_TWILIO_AUTH_TOKEN)")


# A signed batch older (or further ahead) than this is refused: a captured request replayed later
# would otherwise be as good as new. SendGrid posts events within seconds of signing them.
SENDGRID_MAX_AGE_SECONDS = 300


def verify_sendgrid_signature(settings: Settings, body: bytes, signature: str | None,
                              timestamp: str | None, now: float | None = None) -> None:
    """Raise NotAllowed unless `signature` is SendGrid's ECDSA signature of timestamp + body, and
    the timestamp is recent (replay)."""
    from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

    key_text = settings.sendgrid_webhook_public_key
    if not key_text:
        raise NotAllowed("SendGrid event webhook refused: BROADCASTER_SENDGRID_WEBHOOK_PUBLIC_KEY is not set, so "
                         "its signature cannot be checked")
    if not signature or not timestamp:
        missing = EventWebhookHeader.SIGNATURE if not signature else EventWebhookHeader.TIMESTAMP
        raise NotAllowed(f"SendGrid event webhook refused: the {missing} header is missing")
    webhook = EventWebhook()
    try:
        key = webhook.convert_public_key_to_ecdsa(key_text)
    except ValueError as exc:
        raise NotAllowed(f"SendGrid event webhook refused: BROADCASTER_SENDGRID_WEBHOOK_PUBLIC_KEY is not a "
                         f"base64 EC public key: {exc}") from None
    try:
        valid = webhook.verify_signature(body.decode("utf-8"), signature, timestamp, key)
    except (UnicodeDecodeError, binascii.Error, ValueError):
        valid = False
    if not valid:
        raise NotAllowed(f"SendGrid event webhook refused: {EventWebhookHeader.SIGNATURE} does not match the body "
                         "and timestamp (check BROADCASTER_SENDGRID_WEBHOOK_PUBLIC_KEY)")
    _refuse_replay(timestamp, time.time() if now is None else now)


def _refuse_replay(timestamp: str, now: float) -> None:
    from sendgrid.helpers.eventwebhook import EventWebhookHeader

    try:
        age = now - int(timestamp)
    except ValueError:
        raise NotAllowed(f"SendGrid event webhook refused: {EventWebhookHeader.TIMESTAMP} is not a Unix time") from None
    if abs(age) > SENDGRID_MAX_AGE_SECONDS:
        logger.warning("refused a SendGrid event batch signed %.0f s from now (a replay or a wrong clock)", -age)
        raise NotAllowed(f"SendGrid event webhook refused: signed {abs(age):.0f} s "
                         f"{'ago' if age > 0 else 'in the future'}, more than {SENDGRID_MAX_AGE_SECONDS} s "
                         "(a replayed request, or this server's clock is wrong)")


# --- Twilio --------------------------------------------------------------------------------


def twilio_status(settings: Settings, params, delivery_id: int | None = None) -> str:
    """Apply one Twilio status callback. Returns the delivery's new status, "ignored" (an
    intermediate or stale status) or "no such message" (answered without an error,
    since Twilio would otherwise retry a callback we can never match).

    `delivery_id` is the optional ``d`` query parameter of the callback URL: it finds the
    delivery even before the worker has stored Twilio's message sid."""
    sid, reported = params.get("MessageSid") or "", (params.get("MessageStatus") or "").lower()
    new_status = TWILIO_STATUSES.get(reported)
    with transaction(settings.database_url) as s:
        delivery = _twilio_delivery(s, sid, delivery_id)
        if delivery is None:
            logger.info("twilio callback for unknown message %s (%s)", sid, reported)
            return Receipt.NO_SUCH_MESSAGE
        if new_status is None:
            return Receipt.IGNORED
        error_code = params.get("ErrorCode") or None
        if delivery.provider_message_id is None:
            delivery.provider_message_id = sid
        detail = f"twilio: {reported}" + (f", error {error_code}" if error_code else "")
        delivered = new_status == DeliveryStatus.DELIVERED
        moved = records.apply_receipt(s, delivery, new_status, detail, error_code=None if delivered else error_code)
        return new_status if moved else Receipt.IGNORED


def _twilio_delivery(s: Session, sid: str, delivery_id: int | None) -> Delivery | None:
    if sid:
        delivery = s.scalar(select(Delivery).where(Delivery.provider_message_id == sid, Delivery.provider == "twilio")
                            .with_for_update())
        if delivery is not None:
            return delivery
    if delivery_id is not None:
        delivery = s.scalar(select(Delivery).where(Delivery.id == delivery_id, Delivery.provider == "twilio")
                            .with_for_update())
        # A delivery that already has another sid is a different message (e.g. a resend).
        if delivery is not None and delivery.provider_message_id in (None, sid):
            return delivery
    return None


# --- SendGrid ------------------------------------------------------------------------------


def sendgrid_events(settings: Settings, events: list[dict]) -> dict[str, int]:
    """Apply one SendGrid event webhook batch, in order. Returns how many events had each
    outcome: a new status (delivered, bounced, undelivered), opted_out, ignored or unknown."""
    if not isinstance(events, list):
        raise InvalidInput("SendGrid event webhook: the body must be a JSON array of events")
    counts: Counter[str] = Counter()
    with transaction(settings.database_url) as s:
        deliveries = _deliveries_by_id(s, [_delivery_id(e) for e in events])
        for event in events:
            counts[_sendgrid_event(s, event, deliveries)] += 1
    return dict(counts)


def _delivery_id(event) -> int | None:
    try:
        return int(event.get("delivery_id"))  # custom args arrive as strings
    except (AttributeError, TypeError, ValueError):
        return None


def _deliveries_by_id(s: Session, ids: list[int | None]) -> dict[int, Delivery]:
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, Delivery] = {}
    for start in range(0, len(wanted), 1000):  # stay under every backend's bound-parameter limit
        part = wanted[start:start + 1000]
        found.update((d.id, d) for d in s.scalars(select(Delivery).where(Delivery.id.in_(part))
                                                  .order_by(Delivery.id).with_for_update()))
    return found


def _sendgrid_event(s: Session, event, deliveries: dict[int, Delivery]) -> str:
    if not isinstance(event, dict):
        return "ignored"
    kind = str(event.get("event") or "")
    delivery = deliveries.get(_delivery_id(event))
    if kind in SENDGRID_OPT_OUTS:
        addresses = {a for a in (event.get("email"), delivery.target if delivery else None) if isinstance(a, str)}
        subscriber = _subscriber_by_email(s, addresses)
        if subscriber is None:
            return Receipt.NO_SUCH_MESSAGE
        opt_out(s, subscriber, f"sendgrid {kind}")
        return Receipt.OPTED_OUT
    new_status = SENDGRID_STATUSES.get(kind)
    if new_status is None:
        return Receipt.IGNORED
    if delivery is None or delivery.provider != "sendgrid":
        return Receipt.NO_SUCH_MESSAGE
    code = str(event.get("status") or event.get("type") or kind)  # SMTP status of a bounce, e.g. 5.1.1
    reason = str(event.get("reason") or "")
    delivered = new_status == DeliveryStatus.DELIVERED
    detail = f"sendgrid: {kind}" + (f" {code}" if not delivered else "") + (f": {reason}" if reason else "")
    if delivery.provider_message_id is None and event.get("sg_message_id"):
        delivery.provider_message_id = str(event["sg_message_id"])[:100]
    moved = records.apply_receipt(s, delivery, new_status, detail, error_code=None if delivered else code[:50],
                                  error_message=reason or None)
    return new_status if moved else Receipt.IGNORED


def _subscriber_by_email(s: Session, addresses: set[str]) -> Subscriber | None:
    if not addresses:
        return None
    exact = s.scalar(select(Subscriber).where(Subscriber.email.in_(addresses)).order_by(Subscriber.id).limit(1))
    if exact is not None:
        return exact
    # Providers may report the address lower-cased; we store it as the customer typed the local part.
    lowered = {a.lower() for a in addresses}
    return s.scalar(select(Subscriber).where(func.lower(Subscriber.email).in_(lowered))
                    .order_by(Subscriber.id).limit(1))


# --- inbound messages ----------------------------------------------------------------------


def remember_inbound(settings: Settings, message_sid: str | None) -> None:
    """Refuse an inbound message (a texted code, `HOLD ...`) whose provider id was acted on before:
    a replayed request approves or switches on nothing."""
    if not message_sid:
        raise NotAllowed("the message has no MessageSid")
    try:
        with unit_of_work(settings) as s:
            s.add(InboundMessage(message_sid=message_sid[:64]))
    except IntegrityError:
        raise NotAllowed(f"message {message_sid} was already handled (a replay)") from None
