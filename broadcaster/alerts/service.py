"""What a notification does: grouped, deduplicated, and at most one draft incident per rule while it fires.

One transaction per request, holding its rule's lock (FOR UPDATE on PostgreSQL; SQLite's single writer),
so a storm of requests for one rule open one incident however they interleave:

- the group is found by source and key (Alertmanager's groupKey, PagerDuty's incident id, a generic
  source's group), each alert by its fingerprint: a repeat changes only what it says (status, labels);
- a firing group without a row joins the rule's incident still open (not resolved on the public pages),
  or opens one: the incident (title, impact and components from the template and rule) and its first
  draft statement, in the name of the rule's writer; the rule's people are told (`paging`);
- when every group of the incident has resolved, a resolved draft is proposed (the template's
  resolution); when one fires again after that, a firing draft replaces it.

Nothing is submitted or published here: people review, submit and approve as for any statement.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import Settings
from ..delivery.dispatch import Dispatch
from ..delivery.enqueue import enqueue
from ..domain.approval import require_role
from ..domain.errors import NotAllowed
from ..incidents.statements import open_in
from ..people.auth import actor_of
from ..playbooks import placeholders
from ..playbooks import statement_templates as playbooks
from ..playbooks.placeholders import Placeholder
from ..store.alert_models import Alert, AlertGroup, AlertIncident, AlertRule, AlertSource
from ..store.db import lock_for_writing
from ..store.models import Incident, utcnow
from ..usecase import log_action, unit_of_work
from . import paging, rules
from .enums import AlertState, Event
from .incoming import AlertIn, Notification


@dataclass
class Outcome:
    outcome: str  # what happened, in a few words (the receiver's answer)
    incident_id: int | None = None
    statement_id: int | None = None
    deliveries: list[int] = field(default_factory=list)

    def answer(self) -> dict:
        return {"outcome": self.outcome, "incident_id": self.incident_id, "statement_id": self.statement_id}


def receive(settings: Settings, source_id: int, notification: Notification, dispatch: Dispatch | None = None,
            now: datetime | None = None) -> dict:
    """Record the notification and act on it; the notices are dispatched once it has committed."""
    if notification.ignored or not notification.alerts:
        return Outcome(f"ignored: {notification.ignored or 'no alerts'}").answer()
    try:
        outcome = _receive(settings, source_id, notification, now or utcnow())
    except IntegrityError:  # a row another request wrote meanwhile under another rule's lock: once more
        outcome = _receive(settings, source_id, notification, now or utcnow())
    if outcome.deliveries:
        (dispatch or enqueue)(settings, outcome.deliveries)
    return outcome.answer()


def _receive(settings: Settings, source_id: int, notification: Notification, now: datetime) -> Outcome:
    with unit_of_work(settings) as s:
        lock_for_writing(s)
        source = s.get(AlertSource, source_id)
        source.last_received_at = now
        group = _group(s, source_id, notification.group_key)
        rule = group.rule if group else rules.first_match(s, source_id, notification)
        if rule is None:
            return Outcome("no rule matched")
        s.scalar(select(AlertRule.id).where(AlertRule.id == rule.id).with_for_update())  # one writer per rule
        group = group or _group(s, source_id, notification.group_key)  # made meanwhile, under the lock?
        outcome = Outcome("recorded")
        closed = group is not None and group.incident.resolved_at is not None  # resolved in public since
        if group is None or closed:
            if not notification.firing:
                return Outcome("resolved: nothing open for it")
            incident, outcome = _incident_for(s, settings, rule, source, notification, now)
            if closed:  # the same group fires after its incident was closed: it belongs to the open one now
                group.incident_id = incident.id
            else:
                group = AlertGroup(source_id=source_id, group_key=notification.group_key, rule_id=rule.id,
                                   incident_id=incident.id, state=AlertState.FIRING.value, first_at=now,
                                   last_at=now)
                s.add(group)
            s.flush()
        _record_alerts(s, group, notification.alerts, now)
        group.notifications += 1
        group.last_at = now
        follow = _follow_up(s, settings, group, source, notification, now)
        outcome.incident_id = outcome.incident_id or group.incident_id
        return follow or outcome


def _group(s: Session, source_id: int, group_key: str) -> AlertGroup | None:
    return s.scalar(select(AlertGroup).where(AlertGroup.source_id == source_id, AlertGroup.group_key == group_key))


def _incident_for(s: Session, settings: Settings, rule: AlertRule, source: AlertSource, notification: Notification,
                  now: datetime) -> tuple[Incident, Outcome]:
    """The rule's incident still open, or a new draft incident with its first draft statement."""
    open_one = s.scalar(select(Incident).join(AlertIncident, AlertIncident.incident_id == Incident.id)
                        .where(AlertIncident.rule_id == rule.id, Incident.resolved_at.is_(None))
                        .order_by(Incident.id.desc()))
    if open_one is not None:
        return open_one, Outcome("added to the open incident", open_one.id)
    actor = actor_of(rule.created_by)
    for action in ("open incident", "draft"):
        require_role(actor, action)
    template = rule.template
    values = _values(source, notification)
    components = list(rule.components or template.components or [])
    title = placeholders.fill("title", template.title, {
        **playbooks.context(settings, template, components, _started(notification, now), now), **values})
    incident = open_in(s, actor, title, rule.impact or template.impact, components)
    drafted = playbooks.draft_from(s, settings, actor, template, incident, values, now, _started(notification, now),
                                   detail={"alert rule": rule.name, "source": source.name})
    s.add(AlertIncident(incident_id=incident.id, rule_id=rule.id, state=AlertState.FIRING.value, opened_at=now,
                        proposed=[drafted["id"]]))
    log_action(s, actor, "alert opened draft", f"incident:{incident.id}",
               {"rule": rule.name, "source": source.name, "group": notification.group_key[:100]})
    s.flush()
    deliveries = paging.tell(s, settings, rule, incident, drafted, Event.OPENED, **_told(source, notification))
    return incident, Outcome("opened a draft incident", incident.id, drafted["id"], deliveries)


def _record_alerts(s: Session, group: AlertGroup, alerts: list[AlertIn], now: datetime) -> None:
    latest = {a.fingerprint: a for a in alerts}  # a fingerprint twice in one request: its last word
    known = {a.fingerprint: a for a in s.scalars(select(Alert).where(
        Alert.group_id == group.id, Alert.fingerprint.in_(list(latest))))}
    for fingerprint, alert in latest.items():
        row = known.get(fingerprint)
        if row is None:
            s.add(Alert(group_id=group.id, fingerprint=fingerprint, name=alert.name, status=alert.status.value,
                        labels=alert.labels, summary=alert.summary, starts_at=alert.starts_at, ends_at=alert.ends_at,
                        last_seen_at=now))
        else:
            row.status, row.labels, row.summary = alert.status.value, alert.labels, alert.summary or row.summary
            row.ends_at, row.last_seen_at, row.times_seen = alert.ends_at, now, row.times_seen + 1
    s.flush()
    firing = s.scalar(select(Alert.id).where(Alert.group_id == group.id, Alert.status == AlertState.FIRING.value)
                      .limit(1))
    group.state = (AlertState.FIRING if firing else AlertState.RESOLVED).value


def _follow_up(s: Session, settings: Settings, group: AlertGroup, source: AlertSource, notification: Notification,
               now: datetime) -> Outcome | None:
    """A resolved draft when the incident's last group resolves; a firing one when it fires again."""
    tracked = s.get(AlertIncident, group.incident_id, with_for_update=True)
    incident = tracked.incident
    if incident.resolved_at is not None:
        return None  # resolved in public already: a human closed it
    firing = s.scalar(select(AlertGroup.id).where(AlertGroup.incident_id == incident.id,
                                                  AlertGroup.state == AlertState.FIRING.value).limit(1)) is not None
    if firing == (tracked.state == AlertState.FIRING.value):
        return None
    rule = tracked.rule
    actor = actor_of(rule.created_by)
    try:
        require_role(actor, "draft")
    except NotAllowed as exc:
        log_action(s, actor, "refused: alert draft", f"incident:{incident.id}", {"reason": str(exc)})
        return Outcome(f"recorded; no draft: {exc}", incident.id)
    event = Event.FIRED_AGAIN if firing else Event.RESOLVED
    began = s.scalar(select(func.min(Alert.starts_at)).join(AlertGroup, AlertGroup.id == Alert.group_id)
                     .where(AlertGroup.incident_id == incident.id)) or tracked.opened_at  # the incident's start
    drafted = playbooks.draft_from(s, settings, actor, rule.template, incident, _values(source, notification), now,
                                   began, resolved=not firing, detail={"alert rule": rule.name, "event": event.value})
    tracked.state = (AlertState.FIRING if firing else AlertState.RESOLVED).value
    tracked.proposed = [*tracked.proposed, drafted["id"]]
    deliveries = paging.tell(s, settings, rule, incident, drafted, event, **_told(source, notification))
    what = "proposed a resolved draft" if not firing else "fired again: a new draft"
    return Outcome(what, incident.id, drafted["id"], deliveries)


def _started(notification: Notification, now: datetime) -> datetime:
    starts = [a.starts_at for a in notification.alerts if a.starts_at and a.status == AlertState.FIRING]
    return min(starts) if starts else now


def _values(source: AlertSource, notification: Notification) -> dict[str, str]:
    firing = [a for a in notification.alerts if a.status == AlertState.FIRING] or notification.alerts
    first = firing[0]
    name = first.name or source.name  # a value for every placeholder: an alert must never fail on its words
    return {Placeholder.ALERT.value: name, Placeholder.SUMMARY.value: (first.summary or name)[:500],
            Placeholder.SOURCE.value: source.name, Placeholder.COUNT.value: str(len(firing))}


def _told(source: AlertSource, notification: Notification) -> dict:
    firing = [a for a in notification.alerts if a.status == AlertState.FIRING]
    return {"source": source.name, "count": len(firing), "alert": firing[0].name if firing else ""}


def list_groups(settings: Settings, limit: int = 100) -> list[dict]:
    """What came in, newest first: each group, its rule, its incident and its alerts' states."""
    with unit_of_work(settings) as s:
        groups = s.scalars(select(AlertGroup).order_by(AlertGroup.last_at.desc(), AlertGroup.id.desc()).limit(limit))
        found = []
        for g in groups:
            alerts = list(s.scalars(select(Alert).where(Alert.group_id == g.id)))
            found.append({"id": g.id, "source": g.source.name, "group_key": g.group_key, "rule": g.rule.name,
                          "incident_id": g.incident_id, "incident_title": g.incident.title, "state": g.state,
                          "alerts": len(alerts), "firing": sum(a.status == AlertState.FIRING.value for a in alerts),
                          "notifications": g.notifications, "first_at": g.first_at.isoformat(),
                          "last_at": g.last_at.isoformat()})
        return found
