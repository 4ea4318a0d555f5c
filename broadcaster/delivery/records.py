"""Claim and record: the only code that moves a delivery's status, and the send log it writes.

- A delivery is sent only by whoever **claims** it: one conditional UPDATE moves it
  pending/retry → sending, attempt + 1, with a lease. The claim commits before any provider
  call, so a worker that dies mid-call leaves a ``sending`` row whose lease expires, never a
  silent gap; and a redelivered task finds nothing left to claim.
- Every state change appends a line to ``delivery_events``, the send log.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, selectinload

from .. import channels, metrics
from ..config import Settings
from ..domain.errors import InvalidInput
from ..store.db import transaction
from ..store.models import AuditEvent, Delivery, DeliveryEvent, Statement, Subscriber, UTCDateTime, utcnow
from .status import CANCELLED, UNSENT

def event_for(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None) -> DeliveryEvent:
    return DeliveryEvent(**_event_row(delivery, status, detail, content_hash))


def log_state_of(s: Session, where, detail: str = "") -> None:
    """Append one send-log line per delivery matching `where`, copying its state as it now is.
    One INSERT ... SELECT in the database: a chunk of a thousand never becomes Python objects."""
    s.execute(insert(DeliveryEvent.__table__).from_select(
        ["delivery_id", "statement_id", "channel", "target", "provider", "status", "attempt",
         "provider_message_id", "detail", "created_at"],
        select(Delivery.id, Delivery.statement_id, Delivery.channel, Delivery.target, Delivery.provider,
               Delivery.status, Delivery.attempts, Delivery.provider_message_id, literal(detail),
               literal(utcnow(), UTCDateTime())).where(where)))


def _event_row(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None,
               **overrides) -> dict:
    return {"delivery_id": delivery.id, "statement_id": delivery.statement_id, "channel": delivery.channel,
            "target": delivery.target, "provider": delivery.provider, "status": status,
            "attempt": delivery.attempts, "provider_message_id": delivery.provider_message_id,
            "content_hash": content_hash, "detail": detail, "created_at": utcnow(), **overrides}


def cancel_unsent(s: Session, which, why: str) -> int:
    """What has not gone out yet of the deliveries matching `which` never will (a newer version
    is live, or the recipient opted out)."""
    rows = s.scalars(select(Delivery).where(which, Delivery.status.in_(UNSENT))
                     .order_by(Delivery.id).with_for_update()).all()
    for delivery in rows:
        delivery.status = CANCELLED
        s.add(event_for(delivery, CANCELLED, why))
    return len(rows)



@dataclass
class Outcome:
    delivery: Delivery
    status: str
    provider_message_id: str | None = None
    error_code: str | None = None
    detail: str = ""
    next_attempt_at: datetime | None = None
    attempted: bool = True  # False: released untried, so its claim does not count as an attempt
    opted_out: bool = False  # the receiver said "never again" (a 410 Gone, a STOP): opt the subscriber out


def claim(settings: Settings, delivery_ids: list[int]) -> list[Delivery]:
    """Deliveries this worker now owns (status sending, lease set), with their statements loaded."""
    now = utcnow()
    with transaction(settings.database_url) as s:
        ids = s.scalars(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status.in_(UNSENT),
                   or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .values(status="sending", attempts=Delivery.attempts + 1, updated_at=now,
                    lease_until=now + timedelta(seconds=settings.lease_seconds))
            .returning(Delivery.id),
        ).all()
        if not ids:
            return []
        deliveries = s.scalars(
            select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id)
            .options(selectinload(Delivery.statement).selectinload(Statement.renditions),
                     selectinload(Delivery.statement).selectinload(Statement.approvals),
                     selectinload(Delivery.statement).selectinload(Statement.incident))
        ).all()
        log_state_of(s, Delivery.id.in_(ids))
        return list(deliveries)


def record(settings: Settings, outcomes: list[Outcome], claimed_as: str = "sending") -> None:
    """Write every outcome and its log line; one transaction per few hundred rows. Only rows still
    in `claimed_as` change: a provider callback (delivered, bounced) that landed first stays."""
    table = Delivery.__table__
    move = (update(table).where(table.c.id == bindparam("b_id"), table.c.status == claimed_as)
            .values(status=bindparam("b_status"), lease_until=None, updated_at=bindparam("b_now"),
                    attempts=table.c.attempts - bindparam("b_undo"),
                    provider_message_id=func.coalesce(bindparam("b_message_id"), table.c.provider_message_id),
                    error_code=bindparam("b_code"), error_message=bindparam("b_error"),
                    next_attempt_at=bindparam("b_next")))
    for start in range(0, len(outcomes), 500):
        part = outcomes[start:start + 500]
        with transaction(settings.database_url) as s:
            now = utcnow()
            s.execute(move, [
                {"b_id": o.delivery.id, "b_status": o.status, "b_now": now, "b_message_id": o.provider_message_id,
                 "b_undo": 0 if o.attempted else 1,
                 "b_code": o.error_code, "b_error": o.detail if o.error_code else None,
                 "b_next": o.next_attempt_at}
                for o in part])
            s.execute(insert(DeliveryEvent.__table__), [
                _event_row(o.delivery, o.status, o.detail, provider_message_id=o.provider_message_id,
                           attempt=o.delivery.attempts - (not o.attempted))
                for o in part])
            for o in part:
                if o.opted_out:
                    opt_out_recipient(s, o.delivery, f"{o.delivery.provider} {o.error_code}")
        for o in part:
            metrics.count_delivery(o.delivery.channel, o.delivery.provider, o.status)


def opt_out(s: Session, subscriber: Subscriber, why: str) -> None:
    """Opted out for good: keep the first time they asked, and cancel what has not gone out yet."""
    if subscriber.opted_out_at is None:
        subscriber.opted_out_at = utcnow()
        s.add(AuditEvent(actor_id=None, action="opt out", subject=f"subscriber:{subscriber.id}",
                         detail={"via": why}, created_at=utcnow()))
    targets = [(Delivery.channel == ch.name) & (Delivery.target == getattr(subscriber, ch.address))
               for ch in channels.recipient_channels() if getattr(subscriber, ch.address)]
    if targets:
        cancel_unsent(s, or_(*targets), f"the subscriber opted out ({why})")


def subscriber_of(s: Session, delivery: Delivery) -> Subscriber | None:
    """The subscriber a delivery went to, or None if they no longer exist."""
    ch = channels.channel(delivery.channel)
    if ch.is_live:
        raise InvalidInput(f"delivery {delivery.id} is a {delivery.channel} delivery: it has no subscriber")
    return s.scalar(select(Subscriber).where(getattr(Subscriber, ch.address) == delivery.target))


def opt_out_recipient(s: Session, delivery: Delivery, why: str) -> None:
    subscriber = subscriber_of(s, delivery)
    if subscriber is not None:
        opt_out(s, subscriber, why)
