"""A rule's pre-approved holding statement, switched on when nobody has answered monitoring's draft in time.

Off unless the rule names both a holding statement and a wait (`holding_after_minutes`). Beat (or embedded
`serve`) runs `switch_due` every BROADCASTER_ALERT_HOLDING_CHECK_SECONDS: an incident monitoring opened,
still firing, its wait over, and no human answer yet gets the holding statement published, in the name of
the rule's writer (who set it up so), audited with why; then the rule's people and every approver are told
through the engine. A human answer is anything a person did to the incident's statements: a version of
their own, an edit of monitoring's draft, a submit. Once per incident: switched on, never again.

The words that go out are the holding statement's, approved in calm times; monitoring's own draft is never
published by this.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import Settings
from ..delivery.dispatch import Dispatch
from ..delivery.enqueue import enqueue
from ..domain.approval import Role
from ..domain.errors import BroadcasterError
from ..domain.lifecycle import State
from ..holding import holding_statements
from ..people.auth import actor_of
from ..store.alert_models import AlertIncident, AlertRule
from ..store.db import lock_for_writing
from ..store.models import Statement, StatementEditor, User, utcnow
from ..store.row_views import statement_view
from ..usecase import log_action, unit_of_work
from . import paging
from .enums import AlertState, Event

# States monitoring's own drafts may be in without a person having acted: a draft, or void because
# monitoring's next draft replaced it.
UNTOUCHED = {State.DRAFT.value, State.WITHDRAWN.value}


def answered(s: Session, tracked: AlertIncident) -> bool:
    """Whether a person has acted on the incident's statements since monitoring opened it."""
    ours = set(tracked.proposed or [])
    for st in s.scalars(select(Statement).where(Statement.incident_id == tracked.incident_id)):
        if st.id not in ours or st.state not in UNTOUCHED:
            return True
    writer = tracked.rule.created_by_id
    return s.scalar(select(StatementEditor.user_id).where(StatementEditor.statement_id.in_(ours),
                                                          StatementEditor.user_id != writer).limit(1)) is not None


def switch_due(settings: Settings, dispatch: Dispatch | None = None, now: datetime | None = None) -> list[int]:
    """Switch on every holding statement due; returns the incidents it was done for."""
    now = now or utcnow()
    with unit_of_work(settings) as s:
        waiting = s.scalars(select(AlertIncident).join(AlertRule, AlertRule.id == AlertIncident.rule_id).where(
            AlertIncident.holding_switched_at.is_(None), AlertIncident.state == AlertState.FIRING.value,
            AlertRule.holding_id.is_not(None), AlertRule.holding_after_minutes.is_not(None)))
        due = [t.incident_id for t in waiting
               if t.opened_at + timedelta(minutes=t.rule.holding_after_minutes) <= now and not answered(s, t)]
    return [incident_id for incident_id in due if _switch(settings, incident_id, dispatch or enqueue, now)]


def _switch(settings: Settings, incident_id: int, dispatch: Dispatch, now: datetime) -> bool:
    with unit_of_work(settings) as s:  # claimed first: one switch per incident, however many run this
        lock_for_writing(s)
        tracked = s.get(AlertIncident, incident_id, with_for_update=True)
        if tracked.holding_switched_at is not None or answered(s, tracked):
            return False
        tracked.holding_switched_at = now
        rule = tracked.rule
        number, minutes, actor = rule.holding_id, rule.holding_after_minutes, actor_of(rule.created_by)
    why = f"alert rule {rule.name}: no answer to incident {incident_id} within {minutes} min"
    try:
        result = holding_statements.activate(settings, actor, number, dispatch, via=why)
    except BroadcasterError as exc:
        with unit_of_work(settings) as s:
            log_action(s, actor, "refused: alert holding", f"incident:{incident_id}", {"reason": str(exc),
                                                                                        "holding": number})
        return False
    with unit_of_work(settings) as s:
        tracked = s.get(AlertIncident, incident_id)
        draft = s.get(Statement, tracked.proposed[-1])
        log_action(s, actor, "alert switched holding on", f"incident:{incident_id}",
                   {"holding": number, "rule": tracked.rule.name, "minutes": minutes, "published": result["id"]})
        deliveries = paging.tell(s, settings, tracked.rule, tracked.incident, statement_view(draft), Event.HOLDING_ON,
                                 also=_approvers(s), minutes=minutes, holding=number,
                                 holding_headline=result.get("headline", ""))
    if deliveries:
        dispatch(settings, deliveries)
    return True


def _approvers(s: Session) -> list[User]:
    return [u for u in s.scalars(select(User).order_by(User.id)) if Role.APPROVER.value in u.role_list]
