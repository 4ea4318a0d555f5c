"""Claim and record: the only code that moves a delivery's status, and the send log it writes.

- A delivery is sent only by whoever **claims** it: in one transaction its row is locked by
  primary key and, if still pending/retry and due, moved to sending, attempt + 1, with a lease
  and a **claim token**. Only deliveries of the statement that is live right now are claimed.
  The claim commits before any provider call, so a worker that dies mid-call leaves a
  ``sending`` row whose lease expires, never a silent gap; and a redelivered task finds nothing
  left to claim.
- An outcome is recorded only while its claim holds (same token, still ``sending``): a worker
  whose lease expired and was reclaimed by another writes nothing, and logs nothing as sent.
- Every state change appends a line to ``delivery_events``, the send log, with the approved
  content hash of the words it concerns.
"""

import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, literal, or_, select, text, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import channels
from ..config import Settings
from ..domain.errors import InvalidInput
from ..store.db import one_of, write_transaction
from ..store.models import AuditEvent, Delivery, DeliveryEvent, Statement, Subscriber, utcnow
from ..store.orm import UTCDateTime
from . import metrics
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
        log_state_of(s, one_of(s, Delivery.id, moved[start:start + 10_000]), why)
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
    with their statements loaded. Deliveries of a statement no longer live are cancelled instead.

    The rows are found and locked by primary key alone, and what may be claimed is decided here:
    a WHERE that also named the status or the statement let PostgreSQL's planner, misled by a new
    statement's fresh rows (no statistics yet), walk every pending row of the fan-out through
    another index for each chunk of a thousand: seconds a claim at a million recipients."""
    now = utcnow()
    with write_transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.id, Delivery.statement_id, Delivery.status, Delivery.next_attempt_at)
                         .where(one_of(s, Delivery.id, delivery_ids)).with_for_update()).all()
        unsent = [row for row in rows if row.status in UNSENT]
        live = _live_among(s, {row.statement_id for row in unsent})
        stale = [row.id for row in unsent if row.statement_id not in live]
        if stale:
            cancel_unsent(s, one_of(s, Delivery.id, stale), STALE)
        due = [row.id for row in unsent if row.statement_id in live
               and (row.next_attempt_at is None or row.next_attempt_at <= now)]
        if not due:
            return []
        # The claimed rows come back from the UPDATE itself: no second query to read them.
        deliveries = sorted(s.scalars(
            update(Delivery).where(one_of(s, Delivery.id, due))
            .values(status="sending", attempts=Delivery.attempts + 1, updated_at=now, claim_token=uuid.uuid4().hex,
                    lease_until=now + timedelta(seconds=settings.lease_seconds))
            .returning(Delivery).execution_options(synchronize_session=False)).all(), key=lambda d: d.id)
        statements = {st.id: st for st in _load_statements(s, {d.statement_id for d in deliveries})}
        for delivery in deliveries:
            set_committed_value(delivery, "statement", statements[delivery.statement_id])
        log_state_of(s, one_of(s, Delivery.id, due))
        return deliveries


STALE = "not sent: a newer version of the statement is live"


def _live_among(s: Session, statement_ids: set[int]) -> set[int]:
    if not statement_ids:
        return set()
    return set(s.scalars(select(Statement.id).where(Statement.id.in_(statement_ids), Statement.state == PUBLISHED)))


def _load_statements(s: Session, ids: set[int]) -> list[Statement]:
    """The statements with what a send checks and needs (renditions, approvals, incident)."""
    return list(s.scalars(select(Statement).where(Statement.id.in_(ids))
                          .options(selectinload(Statement.renditions), selectinload(Statement.approvals),
                                   selectinload(Statement.incident))))


def record(settings: Settings, outcomes: list[Outcome], claimed_as: str = "sending") -> int:
    """Write every outcome and its log line; one transaction per few hundred rows. Only rows this
    caller still holds change: still in `claimed_as` and, for a claim, under the same claim token.
    A provider callback (delivered, bounced) that landed first stays; an outcome whose claim was
    lost (its lease expired, another worker took it) is dropped and logged, never written as sent.
    Returns how many outcomes were recorded."""
    written = 0
    for start in range(0, len(outcomes), 500):
        part = outcomes[start:start + 500]
        with write_transaction(settings.database_url) as s:
            if s.bind.dialect.name == "postgresql":
                held_ids = _record_set_based(s, part, claimed_as)
            else:
                held_ids = _record_row_by_row(s, part, claimed_as)
            held = [o for o in part if o.delivery.id in held_ids]
            _warn_lost(part, held)
            for o in held:
                if o.opted_out:
                    opt_out_recipient(s, o.delivery, f"{o.delivery.provider} {o.error_code}")
        written += len(held)
        for (channel, provider, status), n in Counter((o.delivery.channel, o.delivery.provider, o.status)
                                                      for o in held).items():
            metrics.count_delivery(channel, provider, status, n)
    return written


# PostgreSQL: the whole part in one statement. The outcomes arrive as arrays (one parameter per
# column, however many rows), the UPDATE moves only the rows still held, and the send log gets
# exactly the rows it moved.
_RECORD = text("""
WITH outcome AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:undo AS int[]),
                         CAST(:message_ids AS text[]), CAST(:codes AS text[]), CAST(:errors AS text[]),
                         CAST(:nexts AS timestamp[]), CAST(:tokens AS text[]), CAST(:details AS text[]))
        AS o(id, status, undo, message_id, code, error, next_at, token, detail)
), moved AS (
    UPDATE deliveries AS d
    SET status = o.status, lease_until = NULL, updated_at = :now, attempts = d.attempts - o.undo,
        provider_message_id = COALESCE(o.message_id, d.provider_message_id), error_code = o.code,
        error_message = o.error, next_attempt_at = o.next_at
    FROM outcome AS o
    WHERE d.id = o.id AND d.status = :claimed_as AND (NOT :check_token OR d.claim_token IS NOT DISTINCT FROM o.token)
    RETURNING d.id, d.statement_id, d.channel, d.target, d.provider, d.status, d.attempts,
              o.message_id, o.detail
)
INSERT INTO delivery_events (delivery_id, statement_id, channel, target, provider, status, attempt,
                             provider_message_id, content_hash, detail, created_at)
SELECT m.id, m.statement_id, m.channel, m.target, m.provider, m.status, m.attempts, m.message_id,
       st.content_hash, m.detail, :now
FROM moved AS m JOIN statements AS st ON st.id = m.statement_id
ORDER BY m.id
RETURNING delivery_id
""")


def _record_set_based(s: Session, outcomes: list[Outcome], claimed_as: str) -> set[int]:
    def naive_utc(moment: datetime | None) -> datetime | None:
        return UTCDateTime().process_bind_param(moment, s.bind.dialect)  # refuses a naive time, as the column does

    return set(s.scalars(_RECORD, {
        "ids": [o.delivery.id for o in outcomes], "statuses": [o.status for o in outcomes],
        "undo": [0 if o.attempted else 1 for o in outcomes],
        "message_ids": [o.provider_message_id for o in outcomes], "codes": [o.error_code for o in outcomes],
        "errors": [o.detail if o.error_code else None for o in outcomes],
        "nexts": [naive_utc(o.next_attempt_at) for o in outcomes],
        "tokens": [o.delivery.claim_token for o in outcomes], "details": [o.detail for o in outcomes],
        "now": naive_utc(utcnow()), "claimed_as": claimed_as, "check_token": claimed_as == "sending"}))


def _record_row_by_row(s: Session, outcomes: list[Outcome], claimed_as: str) -> set[int]:
    """SQLite: lock, check, then one UPDATE and one event per row (executemany)."""
    held = _still_held(s, outcomes, claimed_as)
    if not held:
        return set()
    table = Delivery.__table__
    move = (update(table).where(table.c.id == bindparam("b_id"), table.c.status == claimed_as)
            .values(status=bindparam("b_status"), lease_until=None, updated_at=bindparam("b_now"),
                    attempts=table.c.attempts - bindparam("b_undo"),
                    provider_message_id=func.coalesce(bindparam("b_message_id"), table.c.provider_message_id),
                    error_code=bindparam("b_code"), error_message=bindparam("b_error"),
                    next_attempt_at=bindparam("b_next")))
    now = utcnow()
    s.execute(move, [
        {"b_id": o.delivery.id, "b_status": o.status, "b_now": now, "b_message_id": o.provider_message_id,
         "b_undo": 0 if o.attempted else 1, "b_code": o.error_code, "b_error": o.detail if o.error_code else None,
         "b_next": o.next_attempt_at}
        for o in held])
    s.execute(insert(DeliveryEvent.__table__), [
        _event_row(o.delivery, o.status, o.detail, provider_message_id=o.provider_message_id,
                   attempt=o.delivery.attempts - (not o.attempted))
        for o in held])
    return {o.delivery.id for o in held}


def _still_held(s: Session, outcomes: list[Outcome], claimed_as: str) -> list[Outcome]:
    """The outcomes whose rows this caller still holds (the write transaction holds SQLite's lock)."""
    rows = dict(s.execute(select(Delivery.id, Delivery.claim_token)
                          .where(Delivery.id.in_([o.delivery.id for o in outcomes]), Delivery.status == claimed_as)
                          ).all())
    return [o for o in outcomes if o.delivery.id in rows
            and (claimed_as != "sending" or rows[o.delivery.id] == o.delivery.claim_token)]


def _warn_lost(outcomes: list[Outcome], held: list[Outcome]) -> None:
    if len(held) < len(outcomes):
        kept = {o.delivery.id for o in held}
        lost = [o for o in outcomes if o.delivery.id not in kept]
        logger.warning("%d outcome(s) not recorded: the claim was lost (lease expired or another worker holds "
                       "it): %s", len(lost), ", ".join(f"{o.delivery.id}={o.status}" for o in lost[:10]))


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
    if ch.address is None:  # sent on demand (a reply, a call back): its target is no subscriber's address
        return None
    return s.scalar(select(Subscriber).where(getattr(Subscriber, ch.address) == delivery.target))


def opt_out_recipient(s: Session, delivery: Delivery, why: str) -> None:
    subscriber = subscriber_of(s, delivery)
    if subscriber is not None:
        opt_out(s, subscriber, why)
