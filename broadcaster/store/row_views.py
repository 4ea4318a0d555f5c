"""Rows as plain dicts, safe to print or serialise: what every use case returns."""

from .models import Incident, Statement, User


def user_view(user: User) -> dict:
    return {"id": user.id, "name": user.name, "roles": user.role_list, "email": user.email, "phone": user.phone,
            "slack_user_id": user.slack_user_id}


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
        "workaround": statement.workaround, "resolution": statement.resolution or "",
        "contact_centre_closed": bool(statement.contact_centre_closed),
        "agent_notes": dict(statement.agent_notes or {}), "internal_notes": dict(statement.internal_notes or {}),
        "language": statement.language, "translations": dict(statement.translations or {}),
        "next_update_at": statement.next_update_at.isoformat() if statement.next_update_at else None,
        "author": statement.author.name if statement.author else None,
        "content_hash": statement.content_hash,
    }


