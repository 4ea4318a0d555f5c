"""What was said, where and when: the send log (one line per state change of a delivery, never
updated), read with its proof: each line's content hash against the words stored now."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..config import Settings
from ..domain.errors import InvalidInput
from ..store.content import stored_content_hash
from ..store.models import DeliveryEvent, Statement
from ..usecase import unit_of_work
from .status import REACHED


def send_log(settings: Settings, statement_id: int | None = None, channel: str | None = None,
             status: str | None = None, target: str | None = None, limit: int | None = None,
             after: int | None = None, verify: bool = False, offset: int = 0) -> list[dict]:
    """The send log in event order; a page of `limit` events after the event id `after`. With
    `verify`, each event says whether the content hash it carries is the hash of the words stored
    for its statement now, recomputed from the renditions (`verified`: True, or False: a difference)."""
    if limit is not None and limit < 1:
        raise InvalidInput("log: --limit must be at least 1")
    with unit_of_work(settings) as s:
        query = select(DeliveryEvent, Statement.version, Statement.incident_id).join(
            Statement, Statement.id == DeliveryEvent.statement_id).order_by(DeliveryEvent.id)
        for column, value in ((DeliveryEvent.statement_id, statement_id), (DeliveryEvent.channel, channel),
                              (DeliveryEvent.status, status), (DeliveryEvent.target, target)):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(DeliveryEvent.id > after)
        if limit:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        events = [event_view(event, version, incident_id) for event, version, incident_id in s.execute(query)]
        if verify:
            stored = _stored_hashes(s, {e["statement_id"] for e in events})
            for e in events:
                e["verified"] = e["content_hash"] is not None and e["content_hash"] == stored.get(e["statement_id"])
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


def event_view(event: DeliveryEvent, version: int, incident_id: int) -> dict:
    return {"id": event.id, "at": event.created_at.isoformat(), "incident_id": incident_id,
            "statement_id": event.statement_id, "version": version, "delivery_id": event.delivery_id,
            "channel": event.channel, "target": event.target, "provider": event.provider, "status": event.status,
            "attempt": event.attempt, "provider_message_id": event.provider_message_id,
            "content_hash": event.content_hash, "detail": event.detail}
