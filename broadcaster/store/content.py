"""What an approval covers, read back from the stored rows."""

from ..domain.approval import seal_is_valid
from ..domain.hashing import content_hash
from .models import Statement


def hashed_fields(statement: Statement) -> dict:
    """Every statement field an approval covers."""
    return {
        "incident_id": statement.incident_id, "incident_title": statement.incident.title,
        "version": statement.version, "status": statement.status, "impact": statement.impact,
        "components": list(statement.components), "headline": statement.headline, "body": statement.body,
        "workaround": statement.workaround,
        "next_update_at": statement.next_update_at.isoformat() if statement.next_update_at else None,
        # Only when set: statements approved before components had states keep their hash.
        **({"component_states": dict(statement.component_states)} if statement.component_states else {}),
    }


def stored_renditions(statement: Statement) -> dict[str, dict[str, str]]:
    return {r.channel: dict(r.fields) for r in statement.renditions}


def stored_content_hash(statement: Statement) -> str:
    return content_hash(hashed_fields(statement), stored_renditions(statement))


def approved_hashes(statement: Statement, secret_key: str) -> set[str]:
    """The content hashes this statement's approvals cover, counting only approvals whose seal
    verifies: a row inserted or rewritten in the database approves nothing."""
    return {a.content_hash for a in statement.approvals if a.decision == "approve"
            and seal_is_valid(secret_key, statement.id, a.content_hash, a.approver_id, a.created_at, a.seal)}
