"""What is broken, how badly, and what we know so far."""

import re
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import InvalidInput


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


def parse_choice(enum: type[StrEnum], value: str, field: str) -> StrEnum:
    try:
        return enum(value.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{field}: {value!r} is not one of {choices}") from None


_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)


def parse_next_update(value: str, now: datetime) -> datetime:
    """'30m', '2h', '1h30m' count from now; an ISO 8601 time is taken as given (UTC if naive)."""
    match = _DURATION.match(value)
    if match and any(match.groups()):
        hours, minutes = (int(part or 0) for part in match.groups())
        if hours == minutes == 0:
            raise InvalidInput("next update: must be in the future, not 0 minutes from now")
        return (now + timedelta(hours=hours, minutes=minutes)).replace(microsecond=0)
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"next update: {value!r} is neither a duration like '30m' / '2h' / '1h30m' "
            "nor an ISO time like '2026-11-23T14:30'"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=now.tzinfo)
    if when <= now:
        raise InvalidInput(f"next update: {value!r} is in the past")
    return when
