"""What a draft would say, rendered without saving anything: the editor's live preview.

The same values (`statements.statement_values`), the same templates, languages and limit checks
as submit, on a stand-in for the statement row: nothing is added to the session, so nothing is written.
"""

from types import SimpleNamespace

from ..config import Settings
from ..store.models import Incident, Statement, utcnow
from ..usecase import get, next_version, unit_of_work
from . import translations as languages
from .changes import live_before, since_live
from .statements import StatementInput, preview_of, statement_values


def preview_draft(settings: Settings, incident_id: int, given: StatementInput,
                  statement_id: int | None = None) -> dict:
    """Every channel's words and limits, in every language, for `given` over the incident's latest
    version (or over statement `statement_id`, the draft being edited)."""
    now = utcnow()
    with unit_of_work(settings) as s:
        incident = get(s, Incident, incident_id)
        base = get(s, Statement, statement_id) if statement_id else (
            incident.statements[-1] if incident.statements else None)
        version = base.version if base is not None and base.state == "draft" else next_version(s, incident.id)
        values = statement_values(settings, given, incident, base, now)
        stand_in = SimpleNamespace(incident_id=incident.id, incident=incident, version=version, **values)
        own, translated = languages.render_all(settings, stand_in, now)
        due = values["next_update_at"]
        now_view = {**values, "next_update_at": due.isoformat() if due else None}
        return {**preview_of(settings, stand_in, own, translated),
                "changes": since_live(live_before(incident, None), now_view, own)}
