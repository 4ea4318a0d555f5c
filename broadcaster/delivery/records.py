"""Delivery rows: the only code that creates them and moves their status, each move one the table
in `domain.delivery_status.MOVES` allows, each one a line in the send log.

- Rows are created `pending`: a published statement's live surfaces and fan-out slices, the
  follow-ups to callers, a social reply, a message (an approval request...).
- A delivery is sent only by whoever **claims** it: its row locked by primary key and, if still
  pending/retry and due, moved to sending (attempt + 1, a lease, a **claim token**), for the live
  version or a valid message only. The claim commits before any provider call: a worker dying
  mid-call leaves a `sending` row whose lease expires; a redelivered task finds nothing to claim.
- An outcome is recorded only while its claim holds (same token, still `sending`): a worker whose
  lease expired and was reclaimed by another writes nothing, and logs nothing as sent.
- Provider receipts, expired leases, cancellations and an operator's resend move rows here too.
"""

import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, insert, literal, or_, select, update
from sqlalchemy.orm import Session, selectinload

from .. import channels
from ..config import Settings
from ..domain.delivery_status import UNSENT, DeliveryStatus, Move, check, sources
from ..domain.errors import InvalidInput
from ..store.db import insert_for, one_of, random_hex_sql, write_transaction
from ..store.models import AuditEvent, Delivery, DeliveryEvent, Message, Statement, Subscriber, utcnow
from ..store.orm import UTCDateTime
from . import metrics
from .claimed import ClaimedDelivery, returned_columns
from .outcome_writes import stored_time, write_outcomes
from .sendlog import log_line, log_state_of

logger = logging.getLogger("broadcaster.records")
PUBLISHED = "published"
STALE = "not sent: a newer version of the statement is live"
VOID = "not sent: the message is void (expired, or withdrawn)"
# An `unknown` row cancelled by a newer version: not resent, but reconciliation may still find
# it went out, and then the log says `sent`.
CANCELLED_UNKNOWN = "cancelled while unknown"
_NEW = ["channel", "target", "provider", "status", "attempts", "created_at", "updated_at", "link_nonce", "locale"]


# --- creating rows ---------------------------------------------------------------------------


def add_deliveries(s: Session, rows: list[dict], why: str = "") -> list[int]:
    """New `pending` rows ({"statement_id" or "message_id", "channel", "target", "provider"}, and maybe
    "locale" and "follow_up", each) with their first send-log line; their ids, in order."""
    if not rows:
        return []
    check(Move.CREATE, None, DeliveryStatus.PENDING)
    now = utcnow()
    ids = list(s.scalars(insert(Delivery).returning(Delivery.id), [
        {"statement_id": None, "message_id": None, "locale": None, "follow_up": False, **row,
         "status": DeliveryStatus.PENDING, "attempts": 0, "created_at": now, "updated_at": now} for row in rows]))
    log_state_of(s, one_of(s, Delivery.id, ids), why)
    return ids


def add_for_subscribers(s: Session, statement_id: int, channel: str, address: str, subscriber_ids: list[int],
                        provider: str, language: str, languages: dict[str, str] | None = None) -> list[int]:
    """A fan-out slice: one INSERT ... SELECT from the subscribers (the addresses never travel through Python),
    each row in `languages[subscriber.locale]` or else `language`; a row a rerun already wrote is skipped
    by the unique key (statement, channel, target)."""
    if not subscriber_ids:
        return []
    now = literal(utcnow(), UTCDateTime())
    other = {wanted: tag for wanted, tag in (languages or {}).items() if tag != language}
    words = case(other, value=Subscriber.locale, else_=literal(language)) if other else literal(language)
    rows = (select(literal(statement_id), literal(channel), getattr(Subscriber, address), literal(provider),
                   literal(check(Move.CREATE, None, DeliveryStatus.PENDING).value), literal(0), now, now,
                   random_hex_sql(s), words)
            .where(one_of(s, Subscriber.id, subscriber_ids)).order_by(Subscriber.id))
    ids = sorted(s.scalars(insert_for(s, Delivery).from_select(["statement_id", *_NEW], rows)
                           .on_conflict_do_nothing(index_elements=["statement_id", "channel", "target"])
                           .returning(Delivery.id)))
    if ids:
        log_state_of(s, one_of(s, Delivery.id, ids))
    return ids


def add_or_requeue(s: Session, statement_id: int, channel: str, target: str, provider: str, why: str) -> Delivery:
    """The one row of this statement, channel and target, pending: new, or one already there that
    never reached its target queued again (the unique key allows one row, and the caller has checked
    it is not one that did reach it)."""
    delivery = s.scalar(select(Delivery).where(Delivery.statement_id == statement_id, Delivery.channel == channel,
                                               Delivery.target == target).with_for_update())
    if delivery is None:
        (delivery_id,) = add_deliveries(s, [{"statement_id": statement_id, "channel": channel, "target": target,
                                             "provider": provider}], why)
        return s.get(Delivery, delivery_id)
    requeue(s, [delivery], why, fresh_attempts=True)
    return delivery


# --- claim and record ------------------------------------------------------------------------


@dataclass
class Outcome:
    delivery: Delivery | ClaimedDelivery
    status: DeliveryStatus
    provider_message_id: str | None = None
    error_code: str | None = None
    detail: str = ""
    next_attempt_at: datetime | None = None
    attempted: bool = True  # False: released untried, so its claim does not count as an attempt
    opted_out: bool = False  # the receiver said "never again" (a 410 Gone, a STOP): opt the subscriber out
    held_as: DeliveryStatus = DeliveryStatus.SENDING  # the status the row is in while this outcome is decided


def live_statements():
    """Ids of the statements live right now (a subquery)."""
    return select(Statement.id).where(Statement.state == PUBLISHED).scalar_subquery()


def still_wanted(now: datetime):
    """A delivery of the live version, or of a message not withdrawn nor expired (a clause)."""
    valid = select(Message.id).where(Message.withdrawn_at.is_(None), Message.expires_at > now).scalar_subquery()
    return or_(Delivery.statement_id.in_(live_statements()), Delivery.message_id.in_(valid))


def claim(settings: Settings, delivery_ids: list[int]) -> list[ClaimedDelivery]:
    """Deliveries this worker now owns (status sending, lease set, one claim token for them all),
    with their statements or messages loaded. Deliveries no longer wanted (a newer version is live,
    the message is void) are cancelled instead.

    The rows are found and locked by primary key alone, and what may be claimed is decided here: a
    WHERE naming the status or statement let PostgreSQL's planner, misled by a new statement's fresh
    rows (no statistics yet), walk the fan-out's pending rows per chunk: seconds a claim at a million."""
    now, claimable, table = utcnow(), sources(Move.CLAIM), Delivery.__table__  # columns: no ORM per-row loading
    with write_transaction(settings.database_url) as s:
        rows = s.execute(select(table.c.id, table.c.statement_id, table.c.message_id, table.c.status,
                                table.c.next_attempt_at)
                         .where(one_of(s, table.c.id, delivery_ids)).with_for_update()).all()
        unsent = [row for row in rows if row.status in claimable]
        live = _live_among(s, {row.statement_id for row in unsent if row.statement_id})
        valid = _valid_among(s, {row.message_id for row in unsent if row.message_id}, now)
        wanted = [row for row in unsent if row.statement_id in live or row.message_id in valid]
        stale = [row.id for row in unsent if row.statement_id is not None and row.statement_id not in live]
        void = [row.id for row in unsent if row.message_id is not None and row.message_id not in valid]
        for ids, why in ((stale, STALE), (void, VOID)):
            if ids:
                cancel_unsent(s, one_of(s, Delivery.id, ids), why)
        due = [row.id for row in wanted if row.next_attempt_at is None or row.next_attempt_at <= now]
        if not due:
            return []
        # The claimed rows come back from the UPDATE itself (no second query), as plain objects (claimed.py).
        deliveries = sorted((ClaimedDelivery(*row) for row in s.execute(
            update(table).where(one_of(s, table.c.id, due))
            .values(status=check(Move.CLAIM, DeliveryStatus.PENDING, DeliveryStatus.SENDING),
                    attempts=table.c.attempts + 1, updated_at=now, claim_token=uuid.uuid4().hex,
                    lease_until=now + timedelta(seconds=settings.lease_seconds))
            .returning(*returned_columns()))), key=lambda d: d.id)
        statements = {st.id: st for st in _load_statements(s, {d.statement_id for d in deliveries if d.statement_id})}
        messages = {m.id: m for m in s.scalars(select(Message).where(
            Message.id.in_({d.message_id for d in deliveries if d.message_id})))}
        for d in deliveries:
            d.statement, d.message = statements.get(d.statement_id), messages.get(d.message_id)
        log_state_of(s, one_of(s, Delivery.id, due))
        return deliveries


def _live_among(s: Session, statement_ids: set[int]) -> set[int]:
    if not statement_ids:
        return set()
    return set(s.scalars(select(Statement.id).where(Statement.id.in_(statement_ids), Statement.state == PUBLISHED)))


def _valid_among(s: Session, message_ids: set[int], now: datetime) -> set[int]:
    if not message_ids:
        return set()
    return set(s.scalars(select(Message.id).where(Message.id.in_(message_ids), Message.withdrawn_at.is_(None),
                                                  Message.expires_at > now)))


def _load_statements(s: Session, ids: set[int]) -> list[Statement]:
    """The statements with what a send checks and needs (renditions, approvals, incident)."""
    return list(s.scalars(select(Statement).where(Statement.id.in_(ids))
                          .options(selectinload(Statement.renditions), selectinload(Statement.approvals),
                                   selectinload(Statement.incident))))


def record(settings: Settings, outcomes: list[Outcome], claimed_as: DeliveryStatus = DeliveryStatus.SENDING) -> int:
    """Write every outcome and its log line; one transaction per few hundred rows. Only rows this
    caller still holds change: still in `claimed_as` and, for a claim, under the same claim token.
    A provider callback (delivered, bounced) that landed first stays; an outcome whose claim was
    lost (its lease expired, another worker took it) is dropped and logged, never written as sent.
    `claimed_as` sending: a send's outcome; unknown or cancelled: reconciliation's verdict.
    Returns how many outcomes were recorded."""
    move, checked = (Move.OUTCOME if claimed_as == DeliveryStatus.SENDING else Move.RECONCILE), {}
    for o in outcomes:  # each distinct status checked once: a chunk's thousand outcomes have a few
        o.status = checked.get(o.status) or checked.setdefault(o.status, check(move, claimed_as, o.status))
    written = 0
    for start in range(0, len(outcomes), 500):
        part = outcomes[start:start + 500]
        with write_transaction(settings.database_url) as s:
            held_ids = write_outcomes(s, _outcome_rows(s, part), claimed_as)
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


def _outcome_rows(s: Session, outcomes: list[Outcome]) -> list[dict]:
    as_stored = stored_time(s.bind.dialect)
    return [{"id": o.delivery.id, "status": o.status.value, "undo": 0 if o.attempted else 1,
             "message_id": o.provider_message_id, "code": o.error_code, "error": o.detail if o.error_code else None,
             "next_at": as_stored(o.next_attempt_at), "token": o.delivery.claim_token, "detail": o.detail}
            for o in outcomes]


def _warn_lost(outcomes: list[Outcome], held: list[Outcome]) -> None:
    if len(held) < len(outcomes):
        kept = {o.delivery.id for o in held}
        lost = [o for o in outcomes if o.delivery.id not in kept]
        logger.warning("%d outcome(s) not recorded: the claim was lost (lease expired or another worker holds "
                       "it): %s", len(lost), ", ".join(f"{o.delivery.id}={o.status}" for o in lost[:10]))


# --- the other moves -------------------------------------------------------------------------


def cancel_unsent(s: Session, which, why: str, include_unknown: bool = False) -> int:
    """What has not gone out yet of the deliveries matching `which` never will (a newer version
    is live, the recipient opted out, the message is void). Set-based: one UPDATE and one INSERT ...
    SELECT, however many rows. With `include_unknown`, rows whose last send may or may not have gone
    out are cancelled too (never resent), marked for reconciliation to settle."""
    statuses = sources(Move.CANCEL) if include_unknown else UNSENT & sources(Move.CANCEL)
    cancelled = check(Move.CANCEL, DeliveryStatus.PENDING, DeliveryStatus.CANCELLED)
    moved = s.scalars(update(Delivery).where(which, Delivery.status.in_(statuses))
                      .values(status=cancelled, lease_until=None, updated_at=utcnow(), next_attempt_at=None,
                              error_code=case((Delivery.status == DeliveryStatus.UNKNOWN, CANCELLED_UNKNOWN),
                                              else_=None))
                      .returning(Delivery.id).execution_options(synchronize_session=False)).all()
    for start in range(0, len(moved), 10_000):
        log_state_of(s, one_of(s, Delivery.id, moved[start:start + 10_000]), why)
    return len(moved)


def expire_leases(s: Session, why: str) -> int:
    """A `sending` row whose lease ran out belongs to a dead worker: unknown, to be reconciled (a
    lease renewed meanwhile by a live worker no longer matches). Rows another transaction holds are left
    to the next sweep (SKIP LOCKED): a worker frozen mid-commit (a paused VM) holds them until it wakes,
    and waiting stalled beat's whole sweep as long."""
    now = utcnow()
    expired = (select(Delivery.id).where(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
               .with_for_update(skip_locked=True))
    ids = s.scalars(update(Delivery).where(Delivery.id.in_(expired))
                    .values(status=check(Move.LEASE_EXPIRED, DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN),
                            lease_until=None, updated_at=now)
                    .returning(Delivery.id).execution_options(synchronize_session=False)).all()
    if ids:
        log_state_of(s, one_of(s, Delivery.id, ids), why)
    return len(ids)


def apply_receipt(s: Session, delivery: Delivery, status: DeliveryStatus, detail: str,
                  error_code: str | None = None, error_message: str | None = None) -> bool:
    """A provider's receipt (delivered, bounced, ...) on a locked row; False, and nothing written, when
    the row is already final (receipts arrive late, out of order and more than once)."""
    if delivery.status not in sources(Move.RECEIPT):
        return False
    delivery.status = check(Move.RECEIPT, delivery.status, status)
    delivery.error_code = error_code
    delivery.error_message = error_message or (detail if error_code else None)
    delivery.lease_until = None
    s.add(DeliveryEvent(**log_line(delivery, status, detail)))
    metrics.count_delivery(delivery.channel, delivery.provider, status)
    return True


def requeue(s: Session, deliveries: list[Delivery], why: str, fresh_attempts: bool = False) -> list[int]:
    """Send these (locked) rows again: an operator's resend of failed or unknown deliveries (the
    attempts so far still count), or a social reply queued again (`fresh_attempts`). A row in
    flight or already sent stays as it is."""
    now, ids = utcnow(), []
    for delivery in deliveries:
        if delivery.status not in sources(Move.REQUEUE):
            continue
        delivery.status = check(Move.REQUEUE, delivery.status, DeliveryStatus.PENDING)
        delivery.next_attempt_at, delivery.updated_at = None, now
        if fresh_attempts:
            delivery.attempts = 0
        s.flush()
        s.add(DeliveryEvent(**log_line(delivery, DeliveryStatus.PENDING, why)))
        ids.append(delivery.id)
    return ids


# --- opt-outs --------------------------------------------------------------------------------


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
    # No subscriber's address: a reply, a call back, a message to one of our own people.
    if ch.address is None or (delivery.message_id is not None and not delivery.message.to_subscribers):
        return None
    return s.scalar(select(Subscriber).where(getattr(Subscriber, ch.address) == delivery.target))


def opt_out_recipient(s: Session, delivery: Delivery, why: str) -> None:
    subscriber = subscriber_of(s, delivery)
    if subscriber is not None:
        opt_out(s, subscriber, why)
