"""The vocabularies of alerts in."""

from enum import StrEnum


class SourceKind(StrEnum):
    ALERTMANAGER = "alertmanager"  # Prometheus Alertmanager webhook_config, payload version 4, bearer token
    GRAFANA = "grafana"  # Grafana's webhook contact point, bearer token (Authorization header)
    PAGERDUTY = "pagerduty"  # PagerDuty v3 webhook subscription, X-PagerDuty-Signature (HMAC-SHA256)
    GENERIC = "generic"  # any JSON, signed per Standard Webhooks (webhook-id, -timestamp, -signature)


BEARER_KINDS = frozenset({SourceKind.ALERTMANAGER, SourceKind.GRAFANA})


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Event(StrEnum):
    """What monitoring did, as the people told about it read it (templates/_web/alert/)."""
    OPENED = "opened"  # a firing alert opened a draft incident with a draft statement
    FIRED_AGAIN = "fired again"  # it fired again after a resolved draft was proposed: a new firing draft
    RESOLVED = "resolved"  # every alert of the incident resolved: a resolved draft is proposed
    HOLDING_ON = "holding switched on"  # nobody answered in time: the rule's holding statement is live
