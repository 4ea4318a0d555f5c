"""Scheduled maintenance through the same approval as any statement.

`schedule` opens an incident of kind `maintenance` with its window and drafts and submits three
statements at once: `scheduled` (v1), `in_progress` (v2) and `completed` (v3). Approvers approve
each like any statement; an author publishes v1 (then /status and scheduled-maintenances*.json
show it ahead of time). `publish_due` (beat, every sweep interval) publishes the approved v2 once
the window has started and v3 once it has ended, on behalf of whoever scheduled it. A statement
not approved by then is not published: it waits, and the sweep tries again.
"""

import logging
from datetime import datetime

from sqlalchemy import select

from ..config import Settings
from ..delivery.dispatch import Dispatch
from ..domain.approval import Actor
from ..domain.errors import BroadcasterError, InvalidInput
from ..domain.incident import TITLE_MAX_CHARS, refuse_too_long
from ..domain.lifecycle import State
from ..domain.maintenance_window import KIND, MaintenanceStatus, check_window
from ..people.users import actor_named
from ..store.models import Incident, Statement, User, utcnow
from ..store.row_views import incident_view
from ..usecase import acting, log_action, unit_of_work
from . import publishing, statements
from .statements import StatementInput

logger = logging.getLogger("broadcaster.incidents.maintenance")

# The three statements approved up front. Each says the work's title as its headline; the templates
# say which phase it is ("Scheduled maintenance: Database upgrade") and when, so no word is doubled.
PHASES = (MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.COMPLETED)


def parse_time(value: str, field: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not an ISO time like 2026-11-24T02:00+00:00") from None
    if when.tzinfo is None:
        raise InvalidInput(f"{field}: {value!r} has no zone; add one, e.g. {value}+00:00")
    return when


def schedule(settings: Settings, actor: Actor, title: str, start: datetime, end: datetime,
             components: list[str], body: str, impact: str = "none", now: datetime | None = None,
             translations: dict | None = None) -> dict:
    """Open the maintenance and submit its three statements; returns the incident and their ids.
    `translations` ({locale: {"headline": title, "body": ...}}) words all three in other languages."""
    now = now or utcnow()
    check_window(start, end, now)
    if not title.strip():
        raise InvalidInput("title: say what the work is, e.g. 'Database upgrade'")
    refuse_too_long("title", title.strip(), TITLE_MAX_CHARS)
    if not body.strip():
        raise InvalidInput("body: say what customers will notice during the window")
    with acting(settings, actor, "open incident") as s:
        incident = Incident(title=title.strip(), impact=impact, status=MaintenanceStatus.SCHEDULED.value,
                            components=list(components), opened_by_id=actor.id, kind=KIND,
                            scheduled_for=start, scheduled_until=end)
        s.add(incident)
        s.flush()
        log_action(s, actor, "schedule maintenance", f"incident:{incident.id}",
                   {"title": incident.title, "start": start.isoformat(), "end": end.isoformat()})
        incident_id = incident.id
    ids = []
    for phase in PHASES:
        draft = statements.draft(settings, actor, incident_id, StatementInput(
            status=phase.value, impact=impact, components=components, headline=title.strip(), body=body,
            next_update="none", translations=translations), now=now)
        statements.submit(settings, actor, draft["id"])
        ids.append(draft["id"])
    with unit_of_work(settings) as s:
        return {**incident_view(s.get(Incident, incident_id)), "statements": dict(zip(
            (p.value for p in PHASES), ids, strict=True))}


def publish_due(settings: Settings, now: datetime | None = None, dispatch: Dispatch | None = None,
                actor: Actor | None = None) -> list[int]:
    """Publish each maintenance's approved in_progress statement once its window has started and
    its completed statement once it has ended, on behalf of whoever scheduled it. Returns the
    statements published. Beat asks with no actor; a person asking (`maintenance publish-due`)
    needs the role to publish, and is named in the audit trail."""
    now = now or utcnow()
    if actor is not None:
        with acting(settings, actor, "publish", "maintenance:due") as s:
            log_action(s, actor, "publish due maintenance", "maintenance:due", {"at": now.isoformat()})
    published = []
    for statement_id, author in _due(settings, now):
        try:
            publishing.publish(settings, actor_named(settings, author), statement_id, dispatch=dispatch)
            published.append(statement_id)
        except BroadcasterError as exc:  # e.g. a newer version is live: an operator decides
            logger.warning("maintenance statement %s not published at its time: %s", statement_id, exc)
    return published


def _due(settings: Settings, now: datetime) -> list[tuple[int, str]]:
    """(statement id, who scheduled it) of approved phase statements whose time has come, in order."""
    with unit_of_work(settings) as s:
        rows = s.execute(
            select(Statement.id, Statement.status, Incident.scheduled_for, Incident.scheduled_until, User.name)
            .join(Incident, Incident.id == Statement.incident_id).join(User, User.id == Incident.opened_by_id)
            .where(Incident.kind == KIND, Statement.state == State.APPROVED.value,
                   Statement.status.in_((MaintenanceStatus.IN_PROGRESS.value, MaintenanceStatus.COMPLETED.value)))
            .order_by(Statement.incident_id, Statement.version)).all()
    due = []
    for statement_id, status, start, end, author in rows:
        at = start if status == MaintenanceStatus.IN_PROGRESS.value else end
        if at is not None and at <= now:
            due.append((statement_id, author))
    return due
