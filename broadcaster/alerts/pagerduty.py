"""PagerDuty v3 webhooks: an incident's events, signed with `X-PagerDuty-Signature` (`v1=` and the hex
HMAC-SHA256 of the raw body under the subscription's secret; several during a secret's rotation). Grouped
by PagerDuty's incident id: `incident.triggered` and `incident.reopened` fire, `incident.resolved`
resolves; other events (acknowledged, annotated, ...) change nothing here."""

import hashlib
import hmac
import json

from ..domain.errors import InvalidInput, NotAllowed
from .enums import AlertState
from .incoming import AlertIn, Notification, key, labels_of, mapping, time_of

FIRING_EVENTS = {"incident.triggered", "incident.reopened"}
RESOLVED_EVENTS = {"incident.resolved"}


def signature(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(source, headers: dict[str, str], body: bytes) -> None:
    given = [part.strip() for part in (headers.get("x-pagerduty-signature") or "").split(",") if part.strip()]
    if not given:
        raise NotAllowed("no X-PagerDuty-Signature header")
    expected = signature(source.secret or "", body)
    if not source.secret or not any(hmac.compare_digest(expected, one) for one in given):
        raise NotAllowed("X-PagerDuty-Signature does not match this source's secret")


def parse(body: bytes) -> Notification:
    try:
        event = mapping(mapping(json.loads(body)).get("event"), "event")
    except ValueError as exc:
        raise InvalidInput(f"body: not JSON: {exc}") from None
    kind = str(event.get("event_type", ""))
    data = mapping(event.get("data"), "event.data")
    incident_id = key(data.get("id"), "event.data.id")
    if kind in FIRING_EVENTS:
        status = AlertState.FIRING
    elif kind in RESOLVED_EVENTS:
        status = AlertState.RESOLVED
    else:
        return Notification(group_key=incident_id, ignored=f"{kind[:50] or 'an event'} changes nothing here")
    service = data.get("service") if isinstance(data.get("service"), dict) else {}
    priority = data.get("priority") if isinstance(data.get("priority"), dict) else {}
    labels = labels_of({name: value for name, value in {
        "service": service.get("summary"), "urgency": data.get("urgency"), "priority": priority.get("summary"),
        "title": data.get("title"), "incident_key": data.get("incident_key")}.items() if isinstance(value, str)})
    title = labels.get("title", "")
    return Notification(group_key=incident_id, alerts=[AlertIn(
        fingerprint=incident_id, status=status, labels=labels, name=title[:200], summary=title,
        starts_at=time_of(data.get("created_at"), "event.data.created_at"))])
