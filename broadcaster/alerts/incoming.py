"""What every receiver makes of a request, whatever the source: one notification of a group of alerts.
Bounded and checked here, so a rule and the store see only sane values."""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..domain.errors import InvalidInput
from .enums import AlertState

MOST_ALERTS = 1000  # per request (Alertmanager's max_alerts, when set, truncates before this)
MOST_LABELS = 100
LONGEST_KEY = 300
LONGEST_VALUE = 2000


@dataclass(frozen=True)
class AlertIn:
    fingerprint: str
    status: AlertState
    labels: dict[str, str]
    name: str = ""
    summary: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    group_key: str
    alerts: list[AlertIn] = field(default_factory=list)
    ignored: str = ""  # why nothing is to be done (a PagerDuty event that is neither triggered nor resolved)

    @property
    def firing(self) -> bool:
        return any(a.status == AlertState.FIRING for a in self.alerts)


def key(value: object, what: str) -> str:
    """A group key or fingerprint as stored: text, at most LONGEST_KEY (a longer one by its SHA-256)."""
    if not isinstance(value, str | int) or not str(value).strip():
        raise InvalidInput(f"{what}: required, as text")
    text = str(value).strip()
    return text if len(text) <= LONGEST_KEY else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def labels_of(value: object, what: str = "labels") -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{what}: expected an object of label names and values")
    if len(value) > MOST_LABELS:
        raise InvalidInput(f"{what}: at most {MOST_LABELS} labels, got {len(value)}")
    found = {}
    for name, text in value.items():
        text = text if isinstance(text, str) else json.dumps(text)
        if len(name) > LONGEST_KEY or len(text) > LONGEST_VALUE:
            raise InvalidInput(f"{what}.{name[:50]}: a name of at most {LONGEST_KEY} characters and a value of at "
                               f"most {LONGEST_VALUE}")
        found[str(name)] = text
    return found


def fingerprint_of(labels: dict[str, str]) -> str:
    """A fingerprint for a source that gives none: the SHA-256 of its labels, sorted."""
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:32]


def state_of(value: object, what: str = "status") -> AlertState:
    try:
        return AlertState(str(value).lower())
    except ValueError:
        raise InvalidInput(f"{what}: {str(value)[:50]!r} is neither firing nor resolved") from None


_FRACTION = re.compile(r"(\.\d{6})\d+")


def time_of(value: object, what: str) -> datetime | None:
    """An RFC 3339 time (nanoseconds cut to micro), or None for none or Go's zero time (0001-01-01)."""
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", str(value)).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{what}: {str(value)[:50]!r} is not an RFC 3339 time") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return None if when.year < 2 else when.astimezone(UTC)


def bounded(alerts: list) -> list:
    if not isinstance(alerts, list):
        raise InvalidInput("alerts: expected a list")
    if len(alerts) > MOST_ALERTS:
        raise InvalidInput(f"alerts: at most {MOST_ALERTS} in one request, got {len(alerts)}")
    return alerts


def mapping(data: object, what: str = "body") -> dict:
    if not isinstance(data, dict):
        raise InvalidInput(f"{what}: expected a JSON object")
    return data
