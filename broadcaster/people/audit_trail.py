"""Browsing and changing the people lists from the web app: subscribers (search, remove), the
audit trail, and user administration by an admin. Each change is audited with its actor."""

from sqlalchemy import func, select

from ..config import Settings
from ..store.models import AuditEvent, User
from ..usecase import unit_of_work


def audit_trail(settings: Settings, action: str | None = None, actor_name: str | None = None,
                limit: int = 100, offset: int = 0, subjects: list[str] | None = None) -> dict:
    with unit_of_work(settings) as s:
        query = select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
        if action:
            query = query.where(AuditEvent.action == action)
        if actor_name:
            query = query.where(User.name == actor_name)
        if subjects is not None:
            query = query.where(AuditEvent.subject.in_(subjects))
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.execute(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset))
        items = [{"id": e.id, "at": e.created_at.isoformat(), "actor": name, "action": e.action,
                  "subject": e.subject, "detail": e.detail} for e, name in rows]
        return page(items, total, limit, offset)


def page(items: list, total: int, limit: int, offset: int) -> dict:
    more = offset + len(items) < total
    return {"items": items, "total": total, "limit": limit, "offset": offset,
            "next_offset": offset + len(items) if more else None}
