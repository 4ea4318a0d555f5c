"""Publishing: the approved words go live, and an operator's resend.

``publish`` is a transactional outbox. In one transaction the statement becomes published,
the previous version superseded (its unsent deliveries cancelled), one delivery row written per
live surface (banner, status page, IVR, X) and one fan-out job per recipient channel; only after
commit are the live deliveries handed to ``dispatch`` and the jobs to the workers, which write
the per-recipient rows in slices (delivery/fanout.py). So publish takes the same time for ten
subscribers as for a million, and the banner never waits for the email list.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import channels
from ..approvals.decisions import approvals_needed, sealed_approvals, verified_hash
from ..audience.followup import follow_up_callers
from ..audience.notify_rules import event_of, left_out, notifies
from ..channels import transport_for
from ..config import Settings
from ..delivery import enqueue as broker
from ..delivery import fanout
from ..delivery import sweep as sweeping
from ..delivery.dispatch import Dispatch
from ..delivery.hooks import agent_notes_event, raise_event, statement_event
from ..delivery.records import add_deliveries, cancel_unsent
from ..delivery.sweep import reset_for_resend
from ..domain.approval import Actor, highest_impact_of
from ..domain.component_states import FINAL_STATUSES
from ..domain.delivery_status import DeliveryStatus
from ..domain.errors import InvalidInput, NotAllowed
from ..domain.event_types import EventType
from ..domain.incident import refuse_next_update_day_changed, refuse_stale_next_update
from ..domain.lifecycle import Action, State, next_state
from ..stakeholders.sending import deliveries_for as stakeholder_deliveries
from ..store.db import lock_for_writing
from ..store.models import Delivery, Incident, Statement, utcnow
from ..store.row_views import statement_view
from ..usecase import acting, get, label, live_statement, log_action, unit_of_work


def publish(settings: Settings, actor: Actor, statement_id: int,
            dispatch: Dispatch | None = None, action: str = "publish") -> dict:
    """Make the approved words live. Only after commit are the deliveries handed to ``dispatch``
    (default: the broker; tests pass ``send_now`` to send in this process). ``action`` is the
    permission asked for (a holding statement is switched on as "activate holding")."""
    with acting(settings, actor, action, f"statement:{statement_id}") as s:
        statement = _locked_for_publish(s, statement_id)
        new_state = next_state(State(statement.state), Action.PUBLISH, label(statement))
        _refuse_void_approval(settings, statement)
        # A customer must never read a promise already broken, or a "tomorrow" that is today: both
        # checked at the moment the statement goes live (one reading of the clock).
        now = utcnow()
        refuse_stale_next_update(statement.next_update_at, now, settings.zone)
        refuse_next_update_day_changed(statement.next_update_at, statement.submitted_at, now, settings.zone)
        live = live_statement(s, statement.incident_id)
        _refuse_older_than_live(statement, live)
        cancelled = _supersede(s, live)
        statement.state = new_state.value
        statement.published_at = now
        _update_incident(statement)
        delivery_ids = _write_live_deliveries(settings, s, statement)
        delivery_ids += follow_up_callers(settings, s, statement)  # resolved: text (and call) IVR callers
        # Asked once (a count of the incident's earlier versions): the stakeholder audiences and the
        # recipient channels' notification rules both depend on it, and nothing below changes it.
        event = event_of(s, statement)
        delivery_ids += stakeholder_deliveries(settings, s, statement, event)  # leadership, the regulator, ...
        fanning_out = _recipient_channels(settings, s, statement, event)
        # The subscribers' channels with words for this version that the notify rules keep quiet, and
        # why: said by `broadcaster publish` (an update's "fanning out to email" is not read as SMS lost).
        leaving_out = {r.channel: left_out(settings, r.channel, event) for r in statement.renditions
                       if channels.channel(r.channel).kind is channels.Kind.RECIPIENT and r.channel not in fanning_out}
        jobs = fanout.plan(s, statement, fanning_out)
        log_action(s, actor, "publish", f"statement:{statement.id}",
                   {"content_hash": statement.content_hash, "deliveries": len(delivery_ids),
                    "fan_out": fanning_out, "cancelled": cancelled})
        result = {**statement_view(statement), "deliveries": len(delivery_ids), "fan_out": fanning_out,
                  "left_out": leaving_out, "cancelled": cancelled}
        agent_notes = agent_notes_event(statement)
    (dispatch or broker.enqueue)(settings, delivery_ids)
    raise_event(settings, EventType.STATEMENT_PUBLISHED, statement_event(result))  # after the live surfaces
    raise_event(settings, EventType.AGENT_NOTES_PUBLISHED, agent_notes)
    _start_fan_outs(settings, jobs, dispatch)
    return result


def _start_fan_outs(settings: Settings, jobs: list[int], dispatch: Dispatch | None) -> None:
    """On the workers by default; with a `dispatch` of the caller's (tests, the demo), here."""
    if dispatch is None:
        broker.enqueue_fan_outs(settings, jobs)
        return
    for job in jobs:
        fanout.fan_out(settings, job, dispatch)


def retry(settings: Settings, actor: Actor, statement_id: int, statuses: tuple[str, ...],
          dispatch: Dispatch | None = None) -> int:
    """An operator resends what failed, or what crashed mid-call and could not be reconciled."""
    allowed = {DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN}
    if not statuses or not set(statuses) <= allowed:
        raise InvalidInput(f"retry: choose among {', '.join(sorted(allowed))}")
    with acting(settings, actor, "publish", f"statement:{statement_id}") as s:
        statement = get(s, Statement, statement_id)
        if statement.state != State.PUBLISHED.value:
            raise NotAllowed(f"cannot retry {label(statement)}: it is {statement.state}, not the live version")
        log_action(s, actor, "resend", f"statement:{statement.id}", {"statuses": list(statuses)})
    ids = reset_for_resend(settings, statement_id, statuses, actor.name)
    (dispatch or broker.enqueue)(settings, ids)
    return len(ids)


def sweep_now(settings: Settings, actor: Actor, enqueue: Dispatch) -> dict[str, int]:
    """Beat's sweep, run now by a person (`broadcaster sweep`): the role checked, the run audited."""
    with acting(settings, actor, "sweep", "deliveries"):
        pass  # the role check (and its audit on refusal) before anything moves
    result = sweeping.sweep(settings, enqueue)
    with unit_of_work(settings) as s:
        log_action(s, actor, "sweep", "deliveries", result)
    return result


def _locked_for_publish(s: Session, statement_id: int) -> Statement:
    """The statement, read after taking its incident's lock: publishes of one incident run one at
    a time (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE, the database's write lock, on
    SQLite), so two of them never both see the same live version. The partial unique index on
    statements(incident_id) WHERE state = 'published' is the database's own guarantee behind it."""
    lock_for_writing(s)
    incident_id = s.scalar(select(Statement.incident_id).where(Statement.id == statement_id))
    incident = None
    if incident_id is not None:
        incident = s.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())
    # Read only now, after the lock, by a session that had not loaded it: this is what another publish
    # committed while we waited (no refresh needed).
    statement = get(s, Statement, statement_id, lock=True)
    # The row just locked is its incident, which the approval rules and `_update_incident` read: given
    # to the statement as loaded, not read again (the session keeps a row only while something holds it).
    set_committed_value(statement, "incident", incident)
    return statement


def _refuse_void_approval(settings: Settings, statement: Statement) -> None:
    hash_now = verified_hash(statement)
    valid = sealed_approvals(settings, statement, hash_now)  # refuses a row without a valid seal
    needed = approvals_needed(settings, statement)
    if len(valid) < needed:
        raise NotAllowed(f"{label(statement)} has {len(valid)} valid approval(s) of content {hash_now[:12]}, "
                         f"needs {needed}")


def _refuse_older_than_live(statement: Statement, live: Statement | None) -> None:
    if live is not None and live.version > statement.version:
        raise NotAllowed(f"cannot publish {label(statement)}: v{live.version} is already live and newer")


def _supersede(s: Session, live: Statement | None) -> int:
    """The version live until now becomes superseded; returns how many of its deliveries were cancelled."""
    if live is None:
        return 0
    live.state = next_state(State(live.state), Action.SUPERSEDE, label(live)).value
    # Unknown rows too: never resent now; reconciliation may still find they went out.
    s.flush()
    return cancel_unsent(s, Delivery.statement_id == live.id, "a newer version was published", include_unknown=True)


def _update_incident(statement: Statement) -> None:
    incident = statement.incident
    incident.status, incident.impact, incident.components = statement.status, statement.impact, statement.components
    incident.highest_impact = highest_impact_of([incident.highest_impact or statement.impact, statement.impact])
    incident.resolved_at = utcnow() if statement.status in FINAL_STATUSES else None  # resolved, completed


def _write_live_deliveries(settings: Settings, s: Session, statement: Statement) -> list[int]:
    """One delivery per live surface with words in this version (its own rendition, or the one it sends:
    Zendesk's macro holds the agent notes), and its `pending` line in the send log."""
    rendered = {r.channel for r in statement.renditions}
    return add_deliveries(s, [{"statement_id": statement.id, "channel": ch.name, "target": ch.name,
                               "provider": transport_for(ch.name, settings).provider}
                              for ch in channels.all_channels() if ch.is_live and ch.rendition in rendered])


def _recipient_channels(settings: Settings, s: Session, statement: Statement, event: str) -> list[str]:
    """The channels whose subscribers this version goes to: not the ones sent only on demand
    (social replies), nor those the notification rules keep quiet (e.g. SMS on open and resolve)."""
    return [r.channel for r in statement.renditions
            if channels.channel(r.channel).kind is channels.Kind.RECIPIENT
            and notifies(settings, s, statement, r.channel, event)]
