"""Incidents and their statements: open, draft, edit, preview, submit, withdraw, list.

Each use case is one transaction over an authenticated actor (``usecase.acting``): it loads
rows, lets ``domain`` decide, stores the outcome and appends an audit event. Results come back
as plain dicts (``store.row_views``). Approving and rejecting are in ``approvals.decisions``.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from ..approvals.decisions import approvals_needed, show_withdrawn_in_slack, withdraw_requests
from ..config import Settings
from ..delivery.hooks import raise_event, statement_event
from ..domain import field_limits as limits
from ..domain.approval import Actor
from ..domain.component_states import component_states
from ..domain.errors import InvalidInput, LimitExceeded
from ..domain.event_types import EventType
from ..domain.field_limits import Line, Text
from ..domain.hashing import content_hash, sha256_of
from ..domain.incident import TITLE_MAX_CHARS, Impact, IncidentStatus, choose_next_update, parse_choice, refuse_too_long
from ..domain.lifecycle import Action, State, edit_makes_new_version, next_state
from ..domain.maintenance_window import KIND as MAINTENANCE
from ..domain.maintenance_window import MaintenanceStatus
from ..domain.notices import check_resolution
from ..render import LimitCheck
from ..store.content import hashed_fields, stored_renditions, stored_translations
from ..store.models import Incident, Rendition, Statement, StatementEditor, User, utcnow
from ..store.row_views import incident_view, statement_view
from ..usecase import acting, get, label, log_action, next_version, unit_of_work
from . import translations as languages
from .audience_notes import AgentNotesInput, InternalNotesInput, agent_notes_of, internal_notes_of
from .changes import live_before, since_live
from .translations import MOST_TRANSLATIONS, TranslationInput


class StatementInput(BaseModel):
    """What an author gives for a statement (CLI flags, a YAML file, the API). All optional:
    an update starts from the incident's latest version."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Line(limits.WORD) | None = None
    impact: Line(limits.WORD) | None = None
    components: list[Line(limits.NAME)] | None = Field(default=None, max_length=limits.MOST_ITEMS)
    headline: Line(limits.HEADLINE) | None = None
    body: Text(limits.BODY) | None = None
    workaround: Text(limits.WORKAROUND) | None = None
    next_update: Line(limits.NEXT_UPDATE) | None = None
    # {component: state}; the states not given are derived (domain/components.py)
    component_states: dict[Line(limits.NAME), Line(limits.WORD)] | None = Field(default=None,
                                                                                 max_length=limits.MOST_ITEMS)
    # What a resolved incident says first: its own line, e.g. "Logins work normally again."
    resolution: Line(limits.RESOLUTION) | None = None
    # Disaster mode: every channel says the contact centre cannot take calls, and where to go instead.
    contact_centre_closed: bool | None = None
    # {locale: {headline, body, workaround, resolution}} in the installation's other languages; a
    # language given as null is removed; the fields not given are kept from the version before.
    translations: dict[str, TranslationInput | None] | None = Field(default=None, max_length=MOST_TRANSLATIONS)
    # For the contact centre's agents and for stakeholder audiences (audience_notes.py); not given: the
    # version before's, given: replaced whole.
    agent_notes: AgentNotesInput | None = None
    internal_notes: InternalNotesInput | None = None

    @field_validator("next_update", mode="before")
    @classmethod
    def _times_as_text(cls, value: Any) -> Any:
        # YAML turns an unquoted 2026-11-23T14:30 into a datetime: keep it as given.
        return value.isoformat() if isinstance(value, datetime) else value

    @classmethod
    def parse(cls, data: Any, source: str) -> "StatementInput":
        if not isinstance(data, dict):
            raise InvalidInput(f"{source}: expected a mapping of statement fields, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'statement'}: {err['msg']}" for err in exc.errors()
            )
            raise InvalidInput(f"{source}: {problems}") from None

    def merged_over(self, other: "StatementInput") -> "StatementInput":
        """These values where given, the other's elsewhere (CLI flags over a file)."""
        return other.model_copy(update=self.model_dump(exclude_none=True))


def open_incident(settings: Settings, actor: Actor, title: str, impact: str,
                  components: Iterable[str] = ()) -> dict:
    with acting(settings, actor, "open incident") as s:
        view = incident_view(open_in(s, actor, title, impact, components))
    raise_event(settings, EventType.INCIDENT_OPENED,
                {"incident": {k: view.get(k) for k in ("id", "title", "impact", "status", "components")}})
    return view


def open_in(s, actor: Actor, title: str, impact: str, components: Iterable[str] = ()) -> Incident:
    """Open an incident in the caller's transaction (the role is the caller's to check), audited."""
    if not title.strip():
        raise InvalidInput("title: must not be empty")
    refuse_too_long("title", title.strip(), TITLE_MAX_CHARS)
    incident = Incident(title=title.strip(), impact=parse_choice(Impact, impact, "impact").value,
                        status=IncidentStatus.INVESTIGATING.value, components=list(components),
                        opened_by_id=actor.id)
    incident.highest_impact = incident.impact
    s.add(incident)
    s.flush()
    log_action(s, actor, "open incident", f"incident:{incident.id}", {"title": incident.title})
    return incident


def draft(settings: Settings, actor: Actor, incident_id: int, given: StatementInput,
          now: datetime | None = None) -> dict:
    """A new version, starting from the incident's latest. Older versions not yet published
    (draft, pending, approved) are void: only the newest can go out, none is left stranded."""
    with acting(settings, actor, "draft", f"incident:{incident_id}") as s:
        return draft_in(s, settings, actor, get(s, Incident, incident_id), given, now)


def draft_in(s, settings: Settings, actor: Actor, incident: Incident, given: StatementInput,
             now: datetime | None = None, detail: dict | None = None) -> dict:
    """`draft` in the caller's transaction (the role is the caller's to check); `detail` is added to
    the audit row (e.g. which template or alert it came from)."""
    now = now or utcnow()
    latest = incident.statements[-1] if incident.statements else None
    statement = Statement(incident=incident, version=next_version(s, incident.id), state=State.DRAFT.value,
                          author_id=actor.id, **statement_values(settings, given, incident, latest, now))
    s.add(statement)
    s.flush()
    _record_contributors(s, statement, actor, latest)
    voided = _void_unpublished(s, settings, incident, statement)
    log_action(s, actor, "draft", f"statement:{statement.id}", {"version": statement.version,
                                                                "voided": [v["id"] for v in voided], **(detail or {})})
    return {**statement_view(statement), "voided": voided, "live": _live_version(incident)}


def edit(settings: Settings, actor: Actor, statement_id: int, changes: StatementInput,
         now: datetime | None = None) -> dict:
    """A draft changes in place (and its editor may no longer approve it); a submitted version is
    immutable, so the edit becomes a new draft version and older unpublished versions are void."""
    now = now or utcnow()
    with acting(settings, actor, "edit", f"statement:{statement_id}") as s:
        old = get(s, Statement, statement_id, lock=True)
        values = statement_values(settings, changes, old.incident, old, now)
        if not edit_makes_new_version(State(old.state)):
            for key, value in values.items():
                setattr(old, key, value)
            _add_editor(s, old, actor.id)
            log_action(s, actor, "edit", f"statement:{old.id}", {"version": old.version})
            return {**statement_view(old), "voided": [], "live": _live_version(old.incident)}
        new = Statement(incident=old.incident, version=next_version(s, old.incident_id), state=State.DRAFT.value,
                        author_id=actor.id, based_on_id=old.id, **values)
        s.add(new)
        s.flush()
        _record_contributors(s, new, actor, old)
        voided = _void_unpublished(s, settings, old.incident, new)
        log_action(s, actor, "edit", f"statement:{new.id}",
                   {"version": new.version, "based_on": old.id, "voided": [v["id"] for v in voided]})
        return {**statement_view(new), "voided": voided, "live": _live_version(old.incident)}


# Versions whose words another person has approved: a draft made from one does not inherit its
# writers (they are checked already). From anything else, the writers come along.
_CHECKED = {State.APPROVED.value, State.PUBLISHED.value, State.SUPERSEDED.value}


def _record_contributors(s, statement: Statement, actor: Actor, base: Statement | None) -> None:
    inherited = base.contributors if base is not None and base.state not in _CHECKED else set()
    for user_id in sorted({actor.id, *inherited}):
        s.add(StatementEditor(statement=statement, user_id=user_id))
    s.flush()


def _add_editor(s, statement: Statement, user_id: int) -> None:
    if user_id not in statement.contributors:
        s.add(StatementEditor(statement=statement, user_id=user_id))
        s.flush()


def _void_unpublished(s, settings: Settings, incident: Incident, newest: Statement) -> list[dict]:
    """Withdraw every older version still waiting to go out; say which (and, once committed, so do their
    approval requests in Slack). Not for a maintenance: its phases (scheduled, in progress, completed)
    are a series approved up front, each for its time."""
    if incident.kind == "maintenance":
        return []
    # Only the versions still waiting, read as they are now (another transaction may have moved one
    # since the incident's versions were loaded): not every version of the incident again.
    waiting = s.scalars(select(Statement).where(
        Statement.incident_id == incident.id, Statement.id != newest.id,
        Statement.state.in_((State.DRAFT.value, State.PENDING_APPROVAL.value, State.APPROVED.value)))
        .order_by(Statement.version).execution_options(populate_existing=True)).all()
    voided = []
    for older in waiting:
        voided.append({"id": older.id, "version": older.version, "was": older.state})
        older.state = State.WITHDRAWN.value
        withdraw_requests(s, older.id, f"not sent: v{newest.version} replaced this version")
    show_withdrawn_in_slack(s, settings, voided)
    return voided


def _live_version(incident: Incident) -> dict | None:
    live = next((st for st in incident.statements if st.state == State.PUBLISHED.value), None)
    return {"id": live.id, "version": live.version} if live else None


def preview(settings: Settings, statement_id: int) -> dict:
    """Every channel's words for this statement in every language, with each limit and how close it
    is. A draft is rendered now; a submitted statement shows exactly what was stored."""
    with unit_of_work(settings) as s:
        statement = get(s, Statement, statement_id)
        if statement.state == State.DRAFT.value:
            own, translated = languages.render_all(settings, statement, utcnow())
        else:
            own, translated = stored_renditions(statement), stored_translations(statement)
        view = statement_view(statement)
        return {"statement": view, **preview_of(settings, statement, own, translated),
                "changes": since_live(live_before(statement.incident, statement.version), view, own)}


def preview_of(settings: Settings, statement, own: dict, translated: dict) -> dict:
    """The preview's words, limits, languages and content hash for renditions rendered or stored."""
    checks = languages.check_all(settings, own, translated)
    missing = languages.missing_required(settings, statement)
    per_language = languages.preview_languages(settings, translated, checks, missing, statement.translations or {})
    return {
        "content_hash": content_hash_of(statement, own, translated),
        "language": statement.language,
        "channels": languages.channel_views(own, [c for c in checks if not c.locale]),
        "languages": per_language,
        "ok": all(c.ok for c in checks) and all(lang["ok"] for lang in per_language.values()),
    }


def content_hash_of(statement, own: dict, translated: dict) -> str:
    return content_hash(hashed_fields(statement), own, translated)


def submit(settings: Settings, actor: Actor, statement_id: int) -> dict:
    with acting(settings, actor, "submit", f"statement:{statement_id}") as s:
        statement = get(s, Statement, statement_id, lock=True)
        new_state = next_state(State(statement.state), Action.SUBMIT, label(statement))
        # One moment: the words are rendered at it, and publish checks their "today"/"tomorrow" against it
        # (submitted_at); read twice, a midnight between them let a "tomorrow" out on the day it names.
        now = utcnow()
        own, translated = languages.render_all(settings, statement, now)
        _refuse_limit_violations(statement, languages.check_all(settings, own, translated))
        missing = languages.missing_required(settings, statement)
        if missing:
            raise InvalidInput(f"cannot submit {label(statement)}: no {', '.join(missing)} translation, and this "
                               "installation requires one (BROADCASTER_REQUIRED_LOCALES)")
        # One executemany INSERT, not objects: the ORM would fetch each new row's id back, which on
        # SQLite is an INSERT ... RETURNING per rendition (a dozen or more a language). Nothing needs the ids.
        s.execute(insert(Rendition), [{"statement_id": statement.id, "locale": locale, "channel": channel,
                                       "fields": fields, "content_hash": sha256_of(fields)}
                                      for locale, renditions in [("", own), *translated.items()]
                                      for channel, fields in renditions.items()])
        s.expire(statement, ["renditions", "translated_renditions"])
        statement.content_hash = content_hash_of(statement, own, translated)
        statement.state = new_state.value
        statement.submitted_at = now
        log_action(s, actor, "submit", f"statement:{statement.id}", {"content_hash": statement.content_hash,
                                                                     **({"languages": sorted(translated)}
                                                                        if translated else {})})
        view = {**statement_view(statement), "approvals_needed": approvals_needed(settings, statement)}
    raise_event(settings, EventType.STATEMENT_SUBMITTED, statement_event(view))
    return view


def withdraw(settings: Settings, actor: Actor, statement_id: int) -> dict:
    with acting(settings, actor, "withdraw", f"statement:{statement_id}") as s:
        statement = get(s, Statement, statement_id, lock=True)
        was, statement.state = statement.state, next_state(State(statement.state), Action.WITHDRAW,
                                                           label(statement)).value
        withdraw_requests(s, statement.id, "not sent: the statement was withdrawn")
        show_withdrawn_in_slack(s, settings, [{"id": statement.id, "was": was}])
        log_action(s, actor, "withdraw", f"statement:{statement.id}", {})
        return statement_view(statement)


def list_incidents(settings: Settings, limit: int | None = None, offset: int = 0,
                   newest_first: bool = False) -> list[dict]:
    """Incidents by id (oldest first unless `newest_first`); `limit` rows from `offset` when given, paged
    in SQL: a page or a list must not read a year of history to show fifty."""
    with unit_of_work(settings) as s:
        query = select(Incident).order_by(Incident.id.desc() if newest_first else Incident.id)
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return [incident_view(i) for i in s.scalars(query)]


def count_incidents(settings: Settings) -> int:
    with unit_of_work(settings) as s:
        return s.scalar(select(func.count()).select_from(Incident))


def get_incident(settings: Settings, incident_id: int) -> dict:
    """One incident, read by its id (its pages used to read every incident to find it)."""
    with unit_of_work(settings) as s:
        return incident_view(get(s, Incident, incident_id))


def list_statements(settings: Settings, incident_id: int | None = None, *, states: Iterable[str] | None = None,
                    limit: int | None = None, offset: int = 0, newest_first: bool = False) -> list[dict]:
    """Statements by id (oldest first unless `newest_first`), of one incident or all, in `states` if given;
    filtered and paged in SQL, each with its author read in the same few statements (not one per row)."""
    with unit_of_work(settings) as s:
        query = (select(Statement).options(selectinload(Statement.author))
                 .order_by(Statement.id.desc() if newest_first else Statement.id))
        if incident_id is not None:
            get(s, Incident, incident_id)  # a clear error for an id that is not one, or not there
            query = query.where(Statement.incident_id == incident_id)
        if states is not None:
            query = query.where(Statement.state.in_(list(states)))
        if limit is not None:
            query = query.limit(limit).offset(offset)
        return [statement_view(st) for st in s.scalars(query)]


def get_statement(settings: Settings, statement_id: int) -> dict:
    with unit_of_work(settings) as s:
        statement = get(s, Statement, statement_id)
        writers = s.scalars(select(User.name).where(User.id.in_(statement.contributors)).order_by(User.name))
        return {**statement_view(statement), "written_or_edited_by": list(writers),
                "approvals": [{"by": a.approver.name, "decision": a.decision, "content_hash": a.content_hash,
                               "comment": a.comment, "at": a.created_at.isoformat()} for a in statement.approvals]}


def statement_values(settings: Settings, given: StatementInput, incident: Incident, base: Statement | None,
                     now: datetime) -> dict:
    """The full field set of a version: what was given, else the base version's, else the incident's."""
    def pick(name: str, fallback: Any) -> Any:
        value = getattr(given, name)
        return value if value is not None else fallback

    headline = pick("headline", base.headline if base else None)
    body = pick("body", base.body if base else None)
    for name, value in (("headline", headline), ("body", body)):
        if not value:
            raise InvalidInput(f"{name}: required (say what customers see, in one line for the headline)")
    status = parse_choice(_statuses_of(incident), pick("status", base.status if base else incident.status), "status")
    impact = parse_choice(Impact, pick("impact", base.impact if base else incident.impact), "impact")
    next_update = choose_next_update(given.next_update, base.next_update_at if base else None, status, now)
    components = list(pick("components", base.components if base else incident.components))
    resolution = check_resolution(incident.kind, status.value, pick("resolution", base.resolution if base else ""))
    texts = {"headline": headline, "body": body, "workaround": pick("workaround", base.workaround if base else ""),
             "resolution": resolution}
    return {
        "status": status.value, "impact": impact.value, "components": components,
        "component_states": component_states(components, given.component_states, impact.value, status.value),
        **texts, "next_update_at": next_update,
        "contact_centre_closed": bool(pick("contact_centre_closed", base.contact_centre_closed if base else False)),
        "language": base.language if base else settings.default_locale,
        "translations": languages.merge_translations(settings, given.translations,
                                                     base.translations if base else None, texts),
        "agent_notes": agent_notes_of(given.agent_notes, getattr(base, "agent_notes", None) if base else None),
        "internal_notes": internal_notes_of(given.internal_notes,
                                            getattr(base, "internal_notes", None) if base else None),
    }


# --- components and maintenance (kept apart: see domain/components.py, domain/maintenance.py) ---


def _statuses_of(incident: Incident) -> type:
    """A maintenance speaks in maintenance statuses (scheduled, in_progress, ...)."""
    return MaintenanceStatus if incident.kind == MAINTENANCE else IncidentStatus


def _refuse_limit_violations(statement: Statement, checks: list[LimitCheck]) -> None:
    broken = [c.describe() for c in checks if not c.ok]
    if broken:
        raise LimitExceeded(f"cannot submit {label(statement)}: " + "; ".join(broken))
