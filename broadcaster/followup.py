"""Follow-up on resolve: callers who pressed 1 on the IVR ("call me back when it is fixed") hear
back when the incident's `resolved` statement is published.

Each gets the statement's SMS rendition through the delivery engine: a delivery row on the phone
channel with their number as the target, written in the publish transaction (so it is logged,
retried and reconciled like every send, and a STOP cancels it). With `ivr_callback_calls`, each
also gets a call that plays the resolved IVR script: a delivery on the IVR channel whose target
is the number (see channels/ivr.py). A number that opted out gets nothing.
"""

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import channels
from .channels import transport_for
from .config import Settings
from .delivery.records import log_state_of
from .domain.incident import IncidentStatus
from .store.models import AuditEvent, CallbackRequest, Delivery, Statement, Subscriber, utcnow

CALL_CHANNEL = "ivr"  # the phone line's own channel places the calls


def phone_channel() -> channels.Channel:
    """The recipient channel that reaches a phone number (SMS)."""
    return next(ch for ch in channels.recipient_channels() if ch.address == "phone")


def follow_up_callers(settings: Settings, s: Session, statement: Statement) -> list[int]:
    """For a resolved statement being published: write the follow-up deliveries to every caller of
    its incident not yet notified, mark them notified; returns the new delivery ids."""
    if statement.status != IncidentStatus.RESOLVED.value:
        return []
    requests = s.scalars(select(CallbackRequest).where(CallbackRequest.incident_id == statement.incident_id,
                                                       CallbackRequest.notified_at.is_(None))
                         .order_by(CallbackRequest.id).with_for_update()).all()
    if not requests:
        return []
    phones = [r.phone for r in requests]
    opted_out = set(s.scalars(select(Subscriber.phone).where(Subscriber.phone.in_(phones),
                                                             Subscriber.opted_out_at.is_not(None))))
    sms = phone_channel().name
    rendered = {r.channel for r in statement.renditions}
    already = set(s.scalars(select(Delivery.target).where(Delivery.statement_id == statement.id,
                                                          Delivery.channel == sms)))  # also a subscriber
    wanted = [(sms, phone) for phone in phones if phone not in opted_out and phone not in already]
    if settings.ivr_callback_calls:
        wanted += [(CALL_CHANNEL, phone) for phone in phones if phone not in opted_out]
    wanted = [(channel, phone) for channel, phone in wanted if channel in rendered]
    ids = _insert(settings, s, statement, wanted)
    now = utcnow()
    for request in requests:
        request.notified_at = now
    s.add(AuditEvent(actor_id=None, action="follow up callers", subject=f"statement:{statement.id}",
                     detail={"callers": len(phones), "opted_out": len(opted_out), "deliveries": len(ids)},
                     created_at=now))
    return ids


def _insert(settings: Settings, s: Session, statement: Statement, wanted: list[tuple[str, str]]) -> list[int]:
    if not wanted:
        return []
    now = utcnow()
    rows = [{"statement_id": statement.id, "channel": channel, "target": phone,
             "provider": _provider(settings, channel), "status": "pending", "attempts": 0,
             "created_at": now, "updated_at": now} for channel, phone in wanted]
    ids = list(s.scalars(insert(Delivery).returning(Delivery.id), rows))
    log_state_of(s, Delivery.id.in_(ids), "follow-up: this caller asked to hear when it is fixed")
    return ids


def _provider(settings: Settings, channel: str) -> str:
    if channel == CALL_CHANNEL:
        from .channels.ivr import call_provider

        return call_provider(settings)
    return transport_for(channel, settings).provider
