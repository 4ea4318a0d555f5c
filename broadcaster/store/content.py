"""What an approval covers, read back from the stored rows."""

from ..domain.approval import seal_is_valid
from ..domain.hashing import content_hash
from .models import Statement


def hashed_fields(statement: Statement) -> dict:
    """Every statement field an approval covers. A field added later is hashed only when it is set,
    so a statement approved before it existed keeps its hash (and its approval)."""
    translations = dict(getattr(statement, "translations", None) or {})
    return {
        "incident_id": statement.incident_id, "incident_title": statement.incident.title,
        "version": statement.version, "status": statement.status, "impact": statement.impact,
        "components": list(statement.components), "headline": statement.headline, "body": statement.body,
        "workaround": statement.workaround,
        "next_update_at": statement.next_update_at.isoformat() if statement.next_update_at else None,
        # Only when set: statements approved before components had states keep their hash.
        **({"component_states": dict(statement.component_states)} if statement.component_states else {}),
        **({"resolution": statement.resolution} if getattr(statement, "resolution", "") else {}),
        **({"contact_centre_closed": True} if getattr(statement, "contact_centre_closed", False) else {}),
        **({"agent_notes": dict(statement.agent_notes)} if getattr(statement, "agent_notes", None) else {}),
        **({"internal_notes": dict(statement.internal_notes)} if getattr(statement, "internal_notes", None) else {}),
        **({"language": statement.language, "translations": translations} if translations else {}),
    }


def stored_renditions(statement: Statement) -> dict[str, dict[str, str]]:
    """The renditions in the statement's own language: {channel: fields}."""
    return {r.channel: dict(r.fields) for r in statement.renditions}


def stored_translations(statement: Statement) -> dict[str, dict[str, dict[str, str]]]:
    """The translated renditions: {locale: {channel: fields}} ({} for a statement in one language)."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for r in statement.translated_renditions:
        found.setdefault(r.locale, {})[r.channel] = dict(r.fields)
    return found


def stored_content_hash(statement: Statement) -> str:
    return content_hash(hashed_fields(statement), stored_renditions(statement), stored_translations(statement))


def approved_hashes(statement: Statement, secret_key: str) -> set[str]:
    """The content hashes this statement's approvals cover, counting only approvals whose seal
    verifies: a row inserted or rewritten in the database approves nothing."""
    return {a.content_hash for a in statement.approvals if a.decision == "approve"
            and seal_is_valid(secret_key, statement.id, a.content_hash, a.approver_id, a.created_at, a.seal)}
