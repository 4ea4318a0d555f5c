"""What a draft would say, rendered without saving anything: the editor's live preview.

The same values (`statements.statement_values`), the same templates and the same limit checks as
submit, on a stand-in for the statement row: nothing is added to the session, so nothing is written.
"""

from types import SimpleNamespace

from .. import channels
from ..config import Settings
from ..domain.hashing import content_hash
from ..store.content import hashed_fields
from ..store.models import Incident, Statement, utcnow
from ..usecase import get, next_version, unit_of_work
from .statements import StatementInput, render_renditions, statement_values


def preview_draft(settings: Settings, incident_id: int, given: StatementInput,
                  statement_id: int | None = None) -> dict:
    """Every channel's words and limits for `given` over the incident's latest version (or over
    statement `statement_id`, the draft being edited)."""
    with unit_of_work(settings) as s:
        incident = get(s, Incident, incident_id)
        base = get(s, Statement, statement_id) if statement_id else (
            incident.statements[-1] if incident.statements else None)
        version = base.version if base is not None and base.state == "draft" else next_version(s, incident.id)
        values = statement_values(given, incident, base, utcnow())
        stand_in = SimpleNamespace(incident_id=incident.id, incident=SimpleNamespace(title=incident.title),
                                   version=version, **values)
        renditions = render_renditions(settings, stand_in)
        checks = channels.check_limits(renditions, settings)
        result = {
            "content_hash": content_hash(hashed_fields(stand_in), renditions),
            "channels": {
                channel: {**fields, "limits": [c.as_dict() for c in checks if c.channel == channel],
                          "ok": all(c.ok for c in checks if c.channel == channel)}
                for channel, fields in renditions.items()
            },
        }
        result["ok"] = all(c["ok"] for c in result["channels"].values())
        return result
