"""Claim and record: the only code that moves a delivery's status, and the send log it writes.

- A delivery is sent only by whoever **claims** it: one conditional UPDATE moves it
  pending/retry → sending, attempt + 1, with a lease and a **claim token**. Only deliveries of
  the statement that is live right now are claimed. The claim commits before any provider
  call, so a worker that dies mid-call leaves a ``sending`` row whose lease expires, never a
  silent gap; and a redelivered task finds nothing left to claim.
- An outcome is recorded only while its claim holds (same token, still ``sending``): a worker
  whose lease expired and was reclaimed by another writes nothing, and logs nothing as sent.
- Every state change appends a line to ``delivery_events``, the send log, with the approved
  content hash of the words it concerns.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, selectinload

from .. import channels, metrics
from ..config import Settings
from ..domain.errors import InvalidInput
from ..store.db import transaction, write_transaction
from ..store.models import AuditEvent, Delivery, DeliveryEvent, Statement, Subscriber, UTCDateTime, utcnow
from .status import CANCELLED, UNSENT

logger = logging.getLogger("broadcaster.records")
PUBLISHED = "published"

def event_for(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None) -> DeliveryEvent:
    return DeliveryEvent(**_event_row(delivery, status, detail, content_hash))


def log_state_of(s: Session, where, detail: str = "") -> None:
    """Append one send-log line per delivery matching `where`, copying its state as it now is,
    with its statement's approved content hash. One INSERT ... SELECT in the database: a chunk
    of a thousand never becomes Python objects."""
    s.execute(insert(DeliveryEvent.__table__).from_select(
        ["delivery_id", "statement_id", "channel", "target", "provider", "status", "attempt",
         "provider_message_id", "content_hash", "detail", "created_at"],
        select(Delivery.id, Delivery.statement_id, Delivery.channel, Delivery.target, Delivery.provider,
               Delivery.status, Delivery.attempts, Delivery.provider_message_id, Statement.content_hash,
               literal(detail), literal(utcnow(), UTCDateTime()))
        .join(Statement, Statement.id == Delivery.statement_id).where(where).order_by(Delivery.id)))


def _event_row(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None,
               **overrides) -> dict:
    if content_hash is None and "statement" in delivery.__dict__:  # loaded: no query to find it
        content_hash = delivery.statement.content_hash
    return {"delivery_id": delivery.id, "statement_id": delivery.statement_id, "channel": delivery.channel,
            "target": delivery.target, "provider": delivery.provider, "status": status,
            "attempt": delivery.attempts, "provider_message_id": delivery.provider_message_id,
            "content_hash": content_hash, "detail": detail, "created_at": utcnow(), **overrides}


# An `unknown` row cancelled by a newer version: not resent, but reconciliation may still find
# it went out, and then the log says `sent`.
CANCELLED_UNKNOWN = "cancelled while unknown"


def cancel_unsent(s: Session, which, why: str, include_unknown: bool = False) -> int:
    """What has not gone out yet of the deliveries matching `which` never will (a newer version
    is live, or the recipient opted out). Set-based: one UPDATE and one INSERT ... SELECT, however
    many rows. With `include_unknown`, rows whose last send may or may not have gone out are
    cancelled too (never resent), marked for reconciliation to settle."""
    statuses = (*UNSENT, "unknown") if include_unknown else UNSENT
    moved = s.scalars(update(Delivery).where(which, Delivery.status.in_(statuses))
                      .values(status=CANCELLED, lease_until=None, updated_at=utcnow(), next_attempt_at=None,
                              error_code=_cancel_code())
                      .returning(Delivery.id).execution_options(synchronize_session=False)).all()
    for start in range(0, len(moved), 10_000):
        log_state_of(s, Delivery.id.in_(moved[start:start + 10_000]), why)
    return len(moved)


def _cancel_code():
    """The error code a cancelled row keeps: the marker when it was `unknown`, else none."""
    from sqlalchemy import case

    return case((Delivery.status == "unknown", CANCELLED_UNKNOWN), else_=None)



def live_statements():
    """Ids of the statements live right now (a subquery)."""
    return select(Statement.id).where(Statement.state == PUBLISHED).scalar_subquery()


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
    held_as: str = "sending"  # the status the row is in while this outcome is decided


def claim(settings: Settings, delivery_ids: list[int]) -> list[Delivery]:
    """Deliveries this worker now owns (status sending, lease set, one claim token for them all),
    with their statements loaded. Deliveries of a statement no longer live are cancelled instead."""
    now = utcnow()
    token = uuid.uuid4().hex
    with transaction(settings.database_url) as s:
        cancel_unsent(s, Delivery.id.in_(delivery_ids) & Delivery.statement_id.not_in(live_statements()),
                      "not sent: a newer version of the statement is live")
        ids = s.scalars(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status.in_(UNSENT),
                   Delivery.statement_id.in_(live_statements()),
                   or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .values(status="sending", attempts=Delivery.attempts + 1, updated_at=now, claim_token=token,
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


def record(settings: Settings, outcomes: list[Outcome], claimed_as: str = "sending") -> int:
    """Write every outcome and its log line; one transaction per few hundred rows. Only rows this
    caller still holds change: still in `claimed_as` and, for a claim, under the same claim token.
    A provider callback (delivered, bounced) that landed first stays; an outcome whose claim was
    lost (its lease expired, another worker took it) is dropped and logged, never written as sent.
    Returns how many outcomes were recorded."""
    table = Delivery.__table__
    move = (update(table).where(table.c.id == bindparam("b_id"), table.c.status == claimed_as)
            .values(status=bindparam("b_status"), lease_until=None, updated_at=bindparam("b_now"),
                    attempts=table.c.attempts - bindparam("b_undo"),
                    provider_message_id=func.coalesce(bindparam("b_message_id"), table.c.provider_message_id),
                    error_code=bindparam("b_code"), error_message=bindparam("b_error"),
                    next_attempt_at=bindparam("b_next")))
    written = 0
    for start in range(0, len(outcomes), 500):
        with write_transaction(settings.database_url) as s:
            part = _still_held(s, outcomes[start:start + 500], claimed_as)
            written += len(part)
            if not part:
                continue
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
    return written


def _still_held(s: Session, outcomes: list[Outcome], claimed_as: str) -> list[Outcome]:
    """The outcomes whose rows this caller still holds, the rows locked until commit (FOR UPDATE
    on PostgreSQL; the write transaction's lock on SQLite)."""
    if not outcomes:
        return []
    rows = dict(s.execute(select(Delivery.id, Delivery.claim_token)
                          .where(Delivery.id.in_([o.delivery.id for o in outcomes]), Delivery.status == claimed_as)
                          .with_for_update()).all())
    held = [o for o in outcomes if o.delivery.id in rows
            and (claimed_as != "sending" or rows[o.delivery.id] == o.delivery.claim_token)]
    if len(held) < len(outcomes):
        lost = [o for o in outcomes if o not in held]
        logger.warning("%d outcome(s) not recorded: the claim was lost (lease expired or another worker holds "
                       "it): %s", len(lost), ", ".join(f"{o.delivery.id}={o.status}" for o in lost[:10]))
    return held


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
