"""The send log as people scan it: one row per delivery, newest first, with its latest status, and
its send-log lines (every state it went through) to expand. Filtered like `sendlog.send_log`, paged."""

from sqlalchemy import select

from ..config import Settings
from ..store.models import Delivery, DeliveryEvent, Message, Statement
from ..usecase import unit_of_work
from .sendlog import STATEMENT, event_view


def delivery_rows(settings: Settings, statement_id: int | None = None, channel: str | None = None,
                  status: str | None = None, target: str | None = None, kind: str | None = None,
                  limit: int = 50, offset: int = 0) -> list[dict]:
    """A page of deliveries (`status`: their latest), each with its `events` oldest first."""
    with unit_of_work(settings) as s:
        query = (select(Delivery, Statement.version, Statement.incident_id, Message.kind, Message.subject)
                 .outerjoin(Statement, Statement.id == Delivery.statement_id)
                 .outerjoin(Message, Message.id == Delivery.message_id).order_by(Delivery.id.desc()))
        for column, value in ((Delivery.statement_id, statement_id), (Delivery.channel, channel),
                              (Delivery.status, status), (Delivery.target, target)):
            if value is not None:
                query = query.where(column == value)
        if kind == STATEMENT:
            query = query.where(Delivery.statement_id.is_not(None))
        elif kind is not None:
            query = query.where(Message.kind == kind)
        rows = s.execute(query.limit(limit).offset(offset)).all()
        ids = [row[0].id for row in rows]
        events: dict[int, list[dict]] = {i: [] for i in ids}
        if ids:
            lines = s.execute(select(DeliveryEvent, Statement.version, Statement.incident_id, Message.kind,
                                     Message.subject)
                              .outerjoin(Statement, Statement.id == DeliveryEvent.statement_id)
                              .outerjoin(Message, Message.id == DeliveryEvent.message_id)
                              .where(DeliveryEvent.delivery_id.in_(ids)).order_by(DeliveryEvent.id))
            for line in lines:
                events[line[0].delivery_id].append(event_view(*line))
        return [_row(*row, events[row[0].id]) for row in rows]


def _row(delivery: Delivery, version, incident_id, message_kind, subject, events: list[dict]) -> dict:
    return {"id": delivery.id, "statement_id": delivery.statement_id, "incident_id": incident_id, "version": version,
            "kind": message_kind or STATEMENT,
            "subject": subject if delivery.message_id else f"statement:{delivery.statement_id}",
            "channel": delivery.channel, "target": delivery.target, "provider": delivery.provider,
            "status": delivery.status, "attempts": delivery.attempts, "locale": delivery.locale,
            "provider_message_id": delivery.provider_message_id, "error": delivery.error_message or "",
            "at": delivery.updated_at.isoformat(), "events": events}
