"""Rows as plain dicts, safe to print or serialise: what every use case returns."""

from . import channels
from .store.models import DeliveryEvent, Incident, Statement, Subscriber, User


def user_view(user: User) -> dict:
    return {"id": user.id, "name": user.name, "roles": user.role_list, "email": user.email, "phone": user.phone}


def subscriber_view(subscriber: Subscriber) -> dict:
    """Its id and its address on each recipient channel."""
    return {"id": subscriber.id,
            **{ch.address: getattr(subscriber, ch.address) for ch in channels.recipient_channels()}}


def incident_view(incident: Incident) -> dict:
    return {"id": incident.id, "title": incident.title, "impact": incident.impact, "status": incident.status,
            "components": list(incident.components), "opened_at": incident.created_at.isoformat(),
            "kind": incident.kind,
            "scheduled_for": incident.scheduled_for.isoformat() if incident.scheduled_for else None,
            "scheduled_until": incident.scheduled_until.isoformat() if incident.scheduled_until else None}


def statement_view(statement: Statement) -> dict:
    return {
        "id": statement.id, "incident_id": statement.incident_id, "version": statement.version,
        "state": statement.state, "status": statement.status, "impact": statement.impact,
        "components": list(statement.components), "component_states": dict(statement.component_states or {}),
        "headline": statement.headline, "body": statement.body,
        "workaround": statement.workaround,
        "next_update_at": statement.next_update_at.isoformat() if statement.next_update_at else None,
        "author": statement.author.name if statement.author else None,
        "content_hash": statement.content_hash,
    }


def event_view(event: DeliveryEvent, version: int, incident_id: int) -> dict:
    return {"id": event.id, "at": event.created_at.isoformat(), "incident_id": incident_id,
            "statement_id": event.statement_id, "version": version, "delivery_id": event.delivery_id,
            "channel": event.channel, "target": event.target, "provider": event.provider, "status": event.status,
            "attempt": event.attempt, "provider_message_id": event.provider_message_id,
            "content_hash": event.content_hash, "detail": event.detail}
