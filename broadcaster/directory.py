"""Browsing and changing the people lists from the web app: subscribers (search, remove), the
audit trail, and user administration by an admin. Each change is audited with its actor."""

from collections.abc import Iterable

from sqlalchemy import func, or_, select

from . import auth, channels, people
from .config import Settings
from .domain.approval import Actor
from .store.models import AuditEvent, Subscriber, User
from .usecase import get, log_action, unit_of_work
from .views import subscriber_view


def list_subscribers(settings: Settings, search: str = "", limit: int = 100, offset: int = 0) -> dict:
    """A page of subscribers; `search` matches any part of any address."""
    with unit_of_work(settings) as s:
        query = select(Subscriber)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(or_(*(func.lower(getattr(Subscriber, ch.address)).like(pattern)
                                      for ch in channels.recipient_channels())))
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.scalars(query.order_by(Subscriber.id).limit(limit).offset(offset))
        items = [{**subscriber_view(r), "components": list(r.components),
                  "opted_out": r.opted_out_at is not None} for r in rows]
        return page(items, total, limit, offset)


def add_subscriber(settings: Settings, actor: Actor, components: Iterable[str], addresses: dict) -> dict:
    added = people.add_subscriber(settings, components, **addresses)
    with unit_of_work(settings) as s:
        log_action(s, actor, "add subscriber", f"subscriber:{added['id']}", {})
    return added


def remove_subscriber(settings: Settings, actor: Actor, subscriber_id: int) -> dict:
    """Forget a subscriber (their past sends stay in the send log, which holds the address)."""
    with unit_of_work(settings) as s:
        subscriber = get(s, Subscriber, subscriber_id)
        view = subscriber_view(subscriber)
        s.delete(subscriber)
        log_action(s, actor, "remove subscriber", f"subscriber:{subscriber_id}", {})
        return view


def add_user(settings: Settings, actor: Actor, name: str, roles: list[str], email: str | None = None,
             phone: str | None = None, password: str | None = None) -> dict:
    if password is not None:
        auth.check_password(password)
    user = people.add_user(settings, actor, name, roles, email, phone)  # checks the actor is an admin, audits
    if password is not None:
        auth.set_password(settings, user["name"], password, actor)
    return user


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
