"""The use cases: open an incident, draft, edit, submit, approve, reject, withdraw,
publish, and audit what each channel says.

The CLI (and the API) call only these. Each use case is one transaction that
loads rows, lets ``domain`` decide, stores the outcome and appends an audit
event. Results come back as plain dicts, safe to print or serialise.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from . import sending
from .channels import RECIPIENT_CHANNELS, transport_for
from .config import Settings
from .contacts import normalise_email, normalise_phone
from .domain.approval import (
    Actor,
    ApprovalPolicy,
    Role,
    check_can_approve,
    is_fully_approved,
    require_role,
)
from .domain.errors import InvalidInput, LimitExceeded, NotAllowed, NotFound
from .domain.hashing import content_hash, sha256_of
from .domain.incident import Impact, IncidentStatus, choose_next_update, parse_choice
from .domain.lifecycle import Action, State, edit_makes_new_version, next_state, state_after_edit
from .render import LimitCheck, check_limits, render_statement
from .store.content import hashed_fields, stored_content_hash, stored_renditions
from .store.db import migrate, require_current_schema, transaction
from .store.models import (
    Approval,
    AuditEvent,
    Delivery,
    DeliveryEvent,
    Incident,
    Rendition,
    Statement,
    Subscriber,
    User,
    utcnow,
)

# --- input ------------------------------------------------------------------------------


class StatementInput(BaseModel):
    """What an author gives for a statement (CLI flags, a YAML file, the API). All optional:
    an update starts from the incident's latest version."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: str | None = None
    impact: str | None = None
    components: list[str] | None = None
    headline: str | None = None
    body: str | None = None
    workaround: str | None = None
    next_update: str | None = None

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


# --- setup ------------------------------------------------------------------------------


def init(settings: Settings) -> str:
    return migrate(settings.database_url)


def _unit_of_work(settings: Settings):
    require_current_schema(settings.database_url)
    return transaction(settings.database_url)


def add_user(settings: Settings, name: str, roles: Iterable[str], email: str | None = None,
             phone: str | None = None) -> dict:
    role_values = sorted({parse_choice(Role, role, "role").value for role in roles})
    if not role_values:
        raise InvalidInput("role: give at least one of author, approver, admin")
    if not name.strip():
        raise InvalidInput("name: must not be empty")
    with _unit_of_work(settings) as s:
        if s.scalar(select(User).where(User.name == name)):
            raise InvalidInput(f"name: user {name!r} already exists")
        user = User(name=name.strip(), roles=",".join(role_values),
                    email=normalise_email(email) if email else None,
                    phone=normalise_phone(phone) if phone else None)
        s.add(user)
        s.flush()
        _audit(s, None, "add user", f"user:{user.id}", {"name": user.name, "roles": role_values})
        return _user_view(user)


def list_users(settings: Settings) -> list[dict]:
    with _unit_of_work(settings) as s:
        return [_user_view(u) for u in s.scalars(select(User).order_by(User.id))]


def add_subscriber(settings: Settings, email: str | None = None, phone: str | None = None,
                   components: Iterable[str] = ()) -> dict:
    if not email and not phone:
        raise InvalidInput("subscriber: give an email, a phone number or both")
    with _unit_of_work(settings) as s:
        subscriber = Subscriber(email=normalise_email(email) if email else None,
                                phone=normalise_phone(phone) if phone else None,
                                components=list(components))
        s.add(subscriber)
        s.flush()
        return {"id": subscriber.id, "email": subscriber.email, "phone": subscriber.phone}


# --- incidents and statements -----------------------------------------------------------


def open_incident(settings: Settings, actor_name: str, title: str, impact: str,
                  components: Iterable[str] = ()) -> dict:
    if not title.strip():
        raise InvalidInput("title: must not be empty")
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "open incident")
        incident = Incident(title=title.strip(), impact=parse_choice(Impact, impact, "impact").value,
                            status=IncidentStatus.INVESTIGATING.value, components=list(components),
                            opened_by_id=actor.id)
        s.add(incident)
        s.flush()
        _audit(s, actor, "open incident", f"incident:{incident.id}", {"title": incident.title})
        return _incident_view(incident)


def draft(settings: Settings, actor_name: str, incident_id: int, given: StatementInput,
          now: datetime | None = None) -> dict:
    now = now or utcnow()
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "draft")
        incident = _get(s, Incident, incident_id)
        latest = incident.statements[-1] if incident.statements else None
        statement = Statement(incident=incident, version=_next_version(s, incident.id), state=State.DRAFT.value,
                              author_id=actor.id, **_statement_values(given, incident, latest, now))
        s.add(statement)
        s.flush()
        _audit(s, actor, "draft", f"statement:{statement.id}", {"version": statement.version})
        return _statement_view(statement)


def edit(settings: Settings, actor_name: str, statement_id: int, changes: StatementInput,
         now: datetime | None = None) -> dict:
    """A draft changes in place; a submitted version is immutable, so the edit becomes a new
    draft version and the old one's approvals are void."""
    now = now or utcnow()
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "edit")
        old = _get(s, Statement, statement_id, lock=True)
        values = _statement_values(changes, old.incident, old, now)
        if not edit_makes_new_version(State(old.state)):
            for key, value in values.items():
                setattr(old, key, value)
            _audit(s, actor, "edit", f"statement:{old.id}", {"version": old.version})
            return _statement_view(old)
        new = Statement(incident=old.incident, version=_next_version(s, old.incident_id), state=State.DRAFT.value,
                        author_id=actor.id, based_on_id=old.id, **values)
        s.add(new)
        voided = old.state != state_after_edit(State(old.state)).value
        old.state = state_after_edit(State(old.state)).value
        s.flush()
        _audit(s, actor, "edit", f"statement:{new.id}",
               {"version": new.version, "based_on": old.id, "voided": voided})
        return _statement_view(new)


def preview(settings: Settings, statement_id: int) -> dict:
    """Every channel's words for this statement, with each limit and how close it is.
    A draft is rendered now; a submitted statement shows exactly what was stored."""
    with _unit_of_work(settings) as s:
        statement = _get(s, Statement, statement_id)
        if statement.state == State.DRAFT.value:
            renditions = _render(settings, statement)
        else:
            renditions = stored_renditions(statement)
        checks = check_limits(renditions, settings)
        return {
            "statement": _statement_view(statement),
            "content_hash": content_hash(hashed_fields(statement), renditions),
            "channels": {
                channel: {**fields,
                          "limits": [c.as_dict() for c in checks if c.channel == channel],
                          "ok": all(c.ok for c in checks if c.channel == channel)}
                for channel, fields in renditions.items()
            },
        }


def submit(settings: Settings, actor_name: str, statement_id: int) -> dict:
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "submit")
        statement = _get(s, Statement, statement_id, lock=True)
        new_state = next_state(State(statement.state), Action.SUBMIT, _label(statement))
        renditions = _render(settings, statement)
        _refuse_limit_violations(statement, check_limits(renditions, settings))
        for channel, fields in renditions.items():
            s.add(Rendition(statement=statement, channel=channel, fields=fields, content_hash=sha256_of(fields)))
        statement.content_hash = content_hash(hashed_fields(statement), renditions)
        statement.state = new_state.value
        statement.submitted_at = utcnow()
        _audit(s, actor, "submit", f"statement:{statement.id}", {"content_hash": statement.content_hash})
        return {**_statement_view(statement), "approvals_needed": _policy(settings).required(statement.impact)}


def approve(settings: Settings, actor_name: str, statement_id: int, seen_hash: str | None = None,
            comment: str = "") -> dict:
    """Record one approval of exactly the content ``seen_hash`` names (default: what is stored)."""
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        statement = _get(s, Statement, statement_id, lock=True)
        next_state(State(statement.state), Action.APPROVE, _label(statement))
        hash_now = _verified_hash(statement)
        approved_by = [a.approver_id for a in statement.approvals if a.decision == "approve"]
        check_can_approve(actor, statement.author_id, approved_by, _expand(seen_hash, hash_now), hash_now)
        s.add(Approval(statement=statement, approver_id=actor.id, decision="approve", content_hash=hash_now,
                       comment=comment))
        count, needed = len(approved_by) + 1, _policy(settings).required(statement.impact)
        if is_fully_approved(_policy(settings), statement.impact, count):
            statement.state = State.APPROVED.value
        _audit(s, actor, "approve", f"statement:{statement.id}",
               {"content_hash": hash_now, "approvals": count, "needed": needed, "comment": comment})
        return {**_statement_view(statement), "approvals": count, "approvals_needed": needed}


def reject(settings: Settings, actor_name: str, statement_id: int, reason: str) -> dict:
    if not reason.strip():
        raise InvalidInput("reason: say why, so the author can fix it")
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "reject")
        statement = _get(s, Statement, statement_id, lock=True)
        statement.state = next_state(State(statement.state), Action.REJECT, _label(statement)).value
        s.add(Approval(statement=statement, approver_id=actor.id, decision="reject",
                       content_hash=statement.content_hash or "", comment=reason))
        _audit(s, actor, "reject", f"statement:{statement.id}", {"reason": reason})
        return _statement_view(statement)


def withdraw(settings: Settings, actor_name: str, statement_id: int) -> dict:
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "withdraw")
        statement = _get(s, Statement, statement_id, lock=True)
        statement.state = next_state(State(statement.state), Action.WITHDRAW, _label(statement)).value
        _audit(s, actor, "withdraw", f"statement:{statement.id}", {})
        return _statement_view(statement)


# --- publishing -------------------------------------------------------------------------

Dispatcher = Callable[[Settings, list[int]], None]


def publish(settings: Settings, actor_name: str, statement_id: int,
            dispatch: Dispatcher | None = None) -> dict:
    """Make the approved words live: in one transaction the statement becomes published, the
    previous version superseded (its unsent deliveries cancelled) and one delivery row is written
    per target. Only after commit are the deliveries handed to ``dispatch`` (the outbox): the CLI
    and API pass the Celery enqueue; without one they are sent in this process."""
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "publish")
        statement = _get(s, Statement, statement_id, lock=True)
        new_state = next_state(State(statement.state), Action.PUBLISH, _label(statement))
        _refuse_void_approval(settings, statement)
        _refuse_older_than_live(s, statement)
        cancelled = _supersede_live_version(s, statement.incident_id)
        statement.state = new_state.value
        statement.published_at = utcnow()
        _update_incident(statement)
        delivery_ids = _write_deliveries(settings, s, statement)
        _audit(s, actor, "publish", f"statement:{statement.id}",
               {"content_hash": statement.content_hash, "deliveries": len(delivery_ids), "cancelled": cancelled})
        result = {**_statement_view(statement), "deliveries": len(delivery_ids), "cancelled": cancelled}
    (dispatch or sending.send_now)(settings, delivery_ids)
    return result


def retry(settings: Settings, actor_name: str, statement_id: int, statuses: tuple[str, ...],
          dispatch: Dispatcher | None = None) -> int:
    """An operator resends what failed, or what crashed mid-call and could not be reconciled."""
    allowed = {"failed", "unknown"}
    if not statuses or not set(statuses) <= allowed:
        raise InvalidInput(f"retry: choose among {', '.join(sorted(allowed))}")
    with _unit_of_work(settings) as s:
        actor = _actor(s, actor_name)
        require_role(actor, "publish")
        statement = _get(s, Statement, statement_id)
        if statement.state != State.PUBLISHED.value:
            raise NotAllowed(f"cannot retry {_label(statement)}: it is {statement.state}, not the live version")
        _audit(s, actor, "retry", f"statement:{statement.id}", {"statuses": list(statuses)})
    ids = sending.requeue(settings, statement_id, statuses, actor.name)
    (dispatch or sending.send_now)(settings, ids)
    return len(ids)


def _refuse_void_approval(settings: Settings, statement: Statement) -> None:
    hash_now = _verified_hash(statement)
    valid = [a for a in statement.approvals if a.decision == "approve" and a.content_hash == hash_now]
    needed = _policy(settings).required(statement.impact)
    if len(valid) < needed:
        raise NotAllowed(f"{_label(statement)} has {len(valid)} valid approval(s) of content {hash_now[:12]}, "
                         f"needs {needed}")


def _refuse_older_than_live(s: Session, statement: Statement) -> None:
    live = _live_statement(s, statement.incident_id)
    if live is not None and live.version > statement.version:
        raise NotAllowed(f"cannot publish {_label(statement)}: v{live.version} is already live and newer")


def _supersede_live_version(s: Session, incident_id: int) -> int:
    live = _live_statement(s, incident_id)
    if live is None:
        return 0
    live.state = next_state(State(live.state), Action.SUPERSEDE, _label(live)).value
    return sending.cancel_unsent(s, Delivery.statement_id == live.id, "a newer version was published")


def _update_incident(statement: Statement) -> None:
    incident = statement.incident
    incident.status, incident.impact, incident.components = statement.status, statement.impact, statement.components
    incident.resolved_at = utcnow() if statement.status == IncidentStatus.RESOLVED.value else None


def _write_deliveries(settings: Settings, s: Session, statement: Statement) -> list[int]:
    """One delivery row per target, and its `pending` line in the send log. Core inserts in
    batches: a million subscribers must not become a million ORM objects."""
    now = utcnow()
    for rendition in statement.renditions:
        provider = transport_for(rendition.channel, settings).provider
        for batch in _batched(_targets(s, rendition.channel, statement.components), 5000):
            s.execute(insert(Delivery), [
                {"statement_id": statement.id, "channel": rendition.channel, "target": target, "provider": provider,
                 "status": "pending", "attempts": 0, "created_at": now, "updated_at": now} for target in batch])
    sending.log_current_state(s, Delivery.statement_id == statement.id)
    return list(s.scalars(select(Delivery.id).where(Delivery.statement_id == statement.id).order_by(Delivery.id)))


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _targets(s: Session, channel: str, components: list[str]) -> Iterator[str]:
    """Who a channel reaches: one live surface, or every subscriber who wants this incident."""
    if channel not in RECIPIENT_CHANNELS:
        yield channel
        return
    column = Subscriber.email if channel == "email" else Subscriber.phone
    rows = s.execute(select(column, Subscriber.components)
                     .where(column.is_not(None), Subscriber.opted_out_at.is_(None)).order_by(Subscriber.id)
                     .execution_options(yield_per=5000))
    for address, wanted in rows:
        if not wanted or not components or set(wanted) & set(components):
            yield address


# --- the send log and the consistency audit ---------------------------------------------


def send_log(settings: Settings, statement_id: int | None = None, channel: str | None = None,
             status: str | None = None, target: str | None = None, limit: int | None = None) -> list[dict]:
    with _unit_of_work(settings) as s:
        query = select(DeliveryEvent, Statement.version, Statement.incident_id).join(
            Statement, Statement.id == DeliveryEvent.statement_id).order_by(DeliveryEvent.id)
        for column, value in ((DeliveryEvent.statement_id, statement_id), (DeliveryEvent.channel, channel),
                              (DeliveryEvent.status, status), (DeliveryEvent.target, target)):
            if value is not None:
                query = query.where(column == value)
        if limit:
            query = query.limit(limit)
        return [_event_view(event, version, incident_id) for event, version, incident_id in s.execute(query)]


@dataclass
class ChannelAudit:
    channel: str
    shows_version: int | None
    outstanding: int
    failed: int

    def state(self, expected: int) -> str:
        if self.shows_version is None and self.outstanding == 0 and self.failed == 0:
            return "no targets"
        if self.shows_version == expected and self.outstanding == 0:
            return "current"
        return "behind"


def audit(settings: Settings) -> dict:
    """For each incident with a live statement: the version each channel shows against it."""
    with _unit_of_work(settings) as s:
        incidents = []
        for incident in s.scalars(select(Incident).order_by(Incident.id)):
            live = _live_statement(s, incident.id)
            if live is None:
                continue
            channels = {r.channel: _audit_channel(s, incident.id, live, r.channel) for r in live.renditions}
            report = {
                channel: {"shows_version": a.shows_version, "state": a.state(live.version),
                          "outstanding": a.outstanding, "failed": a.failed}
                for channel, a in channels.items()
            }
            incidents.append({"incident_id": incident.id, "title": incident.title, "live_version": live.version,
                              "live_statement_id": live.id, "channels": report,
                              "drift": any(c["state"] == "behind" for c in report.values())})
        return {"incidents": incidents, "drift": any(i["drift"] for i in incidents)}


def _audit_channel(s: Session, incident_id: int, live: Statement, channel: str) -> ChannelAudit:
    shown = s.scalar(select(func.max(Statement.version)).join(Delivery, Delivery.statement_id == Statement.id)
                     .where(Statement.incident_id == incident_id, Delivery.channel == channel,
                            Delivery.status.in_(sending.DONE)))
    counts = dict(s.execute(select(Delivery.status, func.count()).where(
        Delivery.statement_id == live.id, Delivery.channel == channel).group_by(Delivery.status)).all())
    # Cancelled deliveries never go (a newer version, an opt-out): they are not outstanding.
    outstanding = sum(n for status, n in counts.items()
                      if status not in (*sending.DONE, *sending.FAILED, "cancelled"))
    failed = sum(counts.get(status, 0) for status in sending.FAILED)
    return ChannelAudit(channel, shown, outstanding, failed)


# --- lookups ------------------------------------------------------------------------------


def list_incidents(settings: Settings) -> list[dict]:
    with _unit_of_work(settings) as s:
        return [_incident_view(i) for i in s.scalars(select(Incident).order_by(Incident.id))]


def list_statements(settings: Settings, incident_id: int | None = None) -> list[dict]:
    with _unit_of_work(settings) as s:
        query = select(Statement).order_by(Statement.id)
        if incident_id is not None:
            query = query.where(Statement.incident_id == incident_id)
        return [_statement_view(st) for st in s.scalars(query)]


def get_statement(settings: Settings, statement_id: int) -> dict:
    with _unit_of_work(settings) as s:
        statement = _get(s, Statement, statement_id)
        return {**_statement_view(statement),
                "approvals": [{"by": a.approver.name, "decision": a.decision, "content_hash": a.content_hash,
                               "comment": a.comment, "at": a.created_at.isoformat()} for a in statement.approvals]}


# --- helpers --------------------------------------------------------------------------------


def _policy(settings: Settings) -> ApprovalPolicy:
    return ApprovalPolicy(default=settings.approvals_default, by_impact=settings.approvals_by_impact)


def _actor(s: Session, name: str | None) -> Actor:
    if not name:
        raise InvalidInput("who: say who you are with --as NAME or BROADCASTER_USER")
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"user {name!r} does not exist: add them with `broadcaster user add {name} --role ...`")
    return Actor(user.id, user.name, frozenset(Role(r) for r in user.role_list))


def _get(s: Session, model: type, id_: int, lock: bool = False):
    query = select(model).where(model.id == id_)
    row = s.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"{model.__tablename__[:-1]} {id_} does not exist")
    return row


def _next_version(s: Session, incident_id: int) -> int:
    return (s.scalar(select(func.max(Statement.version)).where(Statement.incident_id == incident_id)) or 0) + 1


def _live_statement(s: Session, incident_id: int) -> Statement | None:
    return s.scalar(select(Statement).where(Statement.incident_id == incident_id,
                                            Statement.state == State.PUBLISHED.value))


def _label(statement: Statement) -> str:
    return f"statement {statement.id} (incident {statement.incident_id} v{statement.version})"


def _statement_values(given: StatementInput, incident: Incident, base: Statement | None, now: datetime) -> dict:
    """The full field set of a version: what was given, else the base version's, else the incident's."""
    def pick(name: str, fallback: Any) -> Any:
        value = getattr(given, name)
        return value if value is not None else fallback

    headline = pick("headline", base.headline if base else None)
    body = pick("body", base.body if base else None)
    for name, value in (("headline", headline), ("body", body)):
        if not value:
            raise InvalidInput(f"{name}: required (say what customers see, in one line for the headline)")
    status = parse_choice(IncidentStatus, pick("status", base.status if base else incident.status), "status")
    impact = parse_choice(Impact, pick("impact", base.impact if base else incident.impact), "impact")
    next_update = choose_next_update(given.next_update, base.next_update_at if base else None, status, now)
    return {
        "status": status.value, "impact": impact.value,
        "components": list(pick("components", base.components if base else incident.components)),
        "headline": headline, "body": body, "workaround": pick("workaround", base.workaround if base else ""),
        "next_update_at": next_update,
    }


def _render(settings: Settings, statement: Statement) -> dict[str, dict[str, str]]:
    context = {
        **hashed_fields(statement),
        "next_update": statement.next_update_at,
        "company": settings.company_name, "status_url": settings.status_page_url,
        "support_url": settings.support_url, "ivr_support_hint": settings.ivr_support_hint,
        "tz": settings.zone, "now": utcnow(),  # for the clock filters: the zone, and what "today" is
    }
    return render_statement(settings.templates_dir, context)


def _verified_hash(statement: Statement) -> str:
    """Re-hash what is stored; refuse if it no longer matches what was submitted."""
    hash_now = stored_content_hash(statement)
    if hash_now != statement.content_hash:
        raise NotAllowed(f"{_label(statement)} was changed after it was submitted (stored content hashes to "
                         f"{hash_now[:12]}, submitted as {(statement.content_hash or '')[:12]}): refusing")
    return hash_now


def _expand(seen_hash: str | None, hash_now: str) -> str:
    """Accept the 12-character prefix people copy from the preview."""
    if seen_hash is None:
        return hash_now
    seen_hash = seen_hash.strip().lower()
    return hash_now if len(seen_hash) >= 8 and hash_now.startswith(seen_hash) else seen_hash


def _refuse_limit_violations(statement: Statement, checks: list[LimitCheck]) -> None:
    broken = [c.describe() for c in checks if not c.ok]
    if broken:
        raise LimitExceeded(f"cannot submit {_label(statement)}: " + "; ".join(broken))


def _audit(s: Session, actor: Actor | None, action: str, subject: str, detail: dict) -> None:
    s.add(AuditEvent(actor_id=actor.id if actor else None, action=action, subject=subject, detail=detail))


def _user_view(user: User) -> dict:
    return {"id": user.id, "name": user.name, "roles": user.role_list, "email": user.email, "phone": user.phone}


def _incident_view(incident: Incident) -> dict:
    return {"id": incident.id, "title": incident.title, "impact": incident.impact, "status": incident.status,
            "components": list(incident.components), "opened_at": incident.created_at.isoformat()}


def _statement_view(statement: Statement) -> dict:
    return {
        "id": statement.id, "incident_id": statement.incident_id, "version": statement.version,
        "state": statement.state, "status": statement.status, "impact": statement.impact,
        "components": list(statement.components), "headline": statement.headline, "body": statement.body,
        "workaround": statement.workaround,
        "next_update_at": statement.next_update_at.isoformat() if statement.next_update_at else None,
        "author": statement.author.name if statement.author else None,
        "content_hash": statement.content_hash,
    }


def _event_view(event: DeliveryEvent, version: int, incident_id: int) -> dict:
    return {"id": event.id, "at": event.created_at.isoformat(), "incident_id": incident_id,
            "statement_id": event.statement_id, "version": version, "delivery_id": event.delivery_id,
            "channel": event.channel, "target": event.target, "provider": event.provider, "status": event.status,
            "attempt": event.attempt, "provider_message_id": event.provider_message_id,
            "content_hash": event.content_hash, "detail": event.detail}
