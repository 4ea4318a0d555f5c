"""What was said, where and when: the send log, one line per state change of a delivery, never
updated. Each line carries the content hash of the words it concerns (the statement's approved hash,
or the message's own); read back, it is checked against the words stored now.

`records.py` writes the lines (`log_line`, `log_state_of`) as it moves statuses; `send_log` reads them.
"""

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session, selectinload

from ..config import Settings
from ..domain.delivery_status import REACHED
from ..domain.errors import InvalidInput
from ..domain.hashing import sha256_of
from ..store.content import stored_content_hash
from ..store.models import Delivery, DeliveryEvent, Message, Statement, utcnow
from ..store.orm import UTCDateTime
from ..usecase import unit_of_work

STATEMENT = "statement"  # the kind of a statement's deliveries; a message's is its own (`Message.kind`)


def log_line(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None,
             **overrides) -> dict:
    """One send-log row for this delivery, as a dict for an INSERT (or `DeliveryEvent(**...)`)."""
    if content_hash is None:  # loaded already: no query to find it
        words = delivery.__dict__.get("statement") or delivery.__dict__.get("message")
        content_hash = words.content_hash if words is not None else None
    return {"delivery_id": delivery.id, "statement_id": delivery.statement_id, "message_id": delivery.message_id,
            "channel": delivery.channel, "target": delivery.target, "provider": delivery.provider, "status": status,
            "attempt": delivery.attempts, "provider_message_id": delivery.provider_message_id,
            "content_hash": content_hash, "detail": detail, "created_at": utcnow(), "locale": delivery.locale,
            **overrides}


def log_state_of(s: Session, where, detail: str = "") -> None:
    """Append one send-log line per delivery matching `where`, copying its state as it now is,
    with the content hash of its words. One INSERT ... SELECT in the database: a chunk of a
    thousand never becomes Python objects."""
    s.execute(insert(DeliveryEvent.__table__).from_select(
        ["delivery_id", "statement_id", "message_id", "channel", "target", "provider", "status", "attempt",
         "provider_message_id", "content_hash", "detail", "created_at", "locale"],
        select(Delivery.id, Delivery.statement_id, Delivery.message_id, Delivery.channel, Delivery.target,
               Delivery.provider, Delivery.status, Delivery.attempts, Delivery.provider_message_id,
               func.coalesce(Statement.content_hash, Message.content_hash),
               literal(detail), literal(utcnow(), UTCDateTime()), Delivery.locale)
        .outerjoin(Statement, Statement.id == Delivery.statement_id)
        .outerjoin(Message, Message.id == Delivery.message_id).where(where).order_by(Delivery.id)))


def send_log(settings: Settings, statement_id: int | None = None, channel: str | None = None,
             status: str | None = None, target: str | None = None, limit: int | None = None,
             after: int | None = None, verify: bool = False, offset: int = 0, kind: str | None = None) -> list[dict]:
    """The send log in event order; a page of `limit` events after the event id `after`. `kind`:
    "statement", or a message kind ("approval request", ...). With `verify`, each event says whether
    the content hash it carries is the hash of the words stored now, recomputed from the renditions
    or the message's fields (`verified`: True, or False: a difference)."""
    if limit is not None and limit < 1:
        raise InvalidInput("log: --limit must be at least 1")
    with unit_of_work(settings) as s:
        query = (select(DeliveryEvent, Statement.version, Statement.incident_id, Message.kind, Message.subject)
                 .outerjoin(Statement, Statement.id == DeliveryEvent.statement_id)
                 .outerjoin(Message, Message.id == DeliveryEvent.message_id).order_by(DeliveryEvent.id))
        for column, value in ((DeliveryEvent.statement_id, statement_id), (DeliveryEvent.channel, channel),
                              (DeliveryEvent.status, status), (DeliveryEvent.target, target)):
            if value is not None:
                query = query.where(column == value)
        if kind == STATEMENT:
            query = query.where(DeliveryEvent.statement_id.is_not(None))
        elif kind is not None:
            query = query.where(Message.kind == kind)
        if after is not None:
            query = query.where(DeliveryEvent.id > after)
        if limit:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        events = [event_view(*row) for row in s.execute(query)]
        if verify:
            stored = _stored_hashes(s, {e["statement_id"] for e in events if e["statement_id"]})
            words = {m.id: sha256_of(m.fields) for m in s.scalars(select(Message).where(
                Message.id.in_({e["message_id"] for e in events if e["message_id"]})))}
            for e in events:
                now = stored.get(e["statement_id"]) if e["statement_id"] else words.get(e["message_id"])
                e["verified"] = e["content_hash"] is not None and e["content_hash"] == now
        return events


def _stored_hashes(s: Session, statement_ids: set[int]) -> dict[int, str]:
    """Each statement's content hash recomputed from its stored fields and renditions."""
    statements = s.scalars(select(Statement).where(Statement.id.in_(statement_ids))
                           .options(selectinload(Statement.renditions), selectinload(Statement.incident))).all()
    return {st.id: stored_content_hash(st) for st in statements}


def unproven_sends(settings: Settings) -> int:
    """Send-log lines of the live versions' sends whose content hash differs from the words stored
    now (or is missing). Only live versions: bounded by what customers are reading now."""
    with unit_of_work(settings) as s:
        live = select(Statement.id).where(Statement.state == "published").scalar_subquery()
        pairs = s.execute(select(DeliveryEvent.statement_id, DeliveryEvent.content_hash, func.count())
                          .where(DeliveryEvent.status.in_(REACHED), DeliveryEvent.statement_id.in_(live))
                          .group_by(DeliveryEvent.statement_id, DeliveryEvent.content_hash)).all()
        stored = _stored_hashes(s, {statement_id for statement_id, _, _ in pairs})
    return sum(n for statement_id, found, n in pairs if found is None or found != stored.get(statement_id))


def event_view(event: DeliveryEvent, version: int | None, incident_id: int | None, message_kind: str | None = None,
               subject: str | None = None) -> dict:
    """One send-log line; `kind`: "statement", or the message's kind, and `subject` what it is about;
    `locale`: the language of the words (None: a live surface, which serves every language)."""
    return {"id": event.id, "at": event.created_at.isoformat(), "incident_id": incident_id,
            "statement_id": event.statement_id, "version": version, "delivery_id": event.delivery_id,
            "channel": event.channel, "target": event.target, "provider": event.provider, "status": event.status,
            "attempt": event.attempt, "provider_message_id": event.provider_message_id,
            "content_hash": event.content_hash, "detail": event.detail, "kind": message_kind or STATEMENT,
            "subject": subject if event.message_id else f"statement:{event.statement_id}",
            "message_id": event.message_id, "locale": event.locale}
