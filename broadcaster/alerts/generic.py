"""Any other system: JSON signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature` under the source's `whsec_` secret; five minutes' tolerance), checked with the
`standardwebhooks` library. The body is one alert or a group of them:

    {"group": "db-primary", "status": "firing", "labels": {"service": "login"}, "summary": "...",
     "fingerprint": "optional", "starts_at": "2026-12-06T07:00:00Z"}
    {"group": "db-primary", "alerts": [{...}, {...}]}

Without a fingerprint an alert is known by its labels; without a group, by its fingerprint."""

import json

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ..domain.errors import InvalidInput, NotAllowed
from .enums import AlertState
from .incoming import AlertIn, Notification, bounded, fingerprint_of, key, labels_of, mapping, state_of, time_of


def verify(source, headers: dict[str, str], body: bytes) -> None:
    try:
        Webhook(source.secret or "").verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError) as exc:  # ValueError: a malformed secret or header
        raise NotAllowed(f"Standard Webhooks signature refused: {exc}") from None


def parse(body: bytes) -> Notification:
    try:
        data = mapping(json.loads(body))
    except ValueError as exc:
        raise InvalidInput(f"body: not JSON: {exc}") from None
    raw_alerts = bounded(data["alerts"]) if "alerts" in data else [data]
    alerts = [alert_of(raw, f"alerts.{i}" if "alerts" in data else "body") for i, raw in enumerate(raw_alerts)]
    if not alerts:
        raise InvalidInput("alerts: at least one")
    return Notification(group_key=key(data.get("group") or alerts[0].fingerprint, "group"), alerts=alerts)


def alert_of(raw: object, where: str) -> AlertIn:
    raw = mapping(raw, where)
    labels = labels_of(raw.get("labels"), f"{where}.labels")
    summary = raw.get("summary", "")
    if not isinstance(summary, str) or len(summary) > 2000:
        raise InvalidInput(f"{where}.summary: text of at most 2000 characters")
    return AlertIn(fingerprint=key(raw.get("fingerprint") or fingerprint_of(labels), f"{where}.fingerprint"),
                   status=state_of(raw.get("status", AlertState.FIRING.value), f"{where}.status"), labels=labels,
                   name=str(raw.get("name") or labels.get("alertname", ""))[:200], summary=summary,
                   starts_at=time_of(raw.get("starts_at"), f"{where}.starts_at"))
