"""What is broken, how badly, and what we know so far."""

import re
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from .errors import InvalidInput, NotAllowed

# A promise further ahead than this is no promise: say when you will really speak next.
NEXT_UPDATE_MAX_AHEAD = timedelta(days=7)
# What an author gives to promise no next update (rather than keep the previous version's).
NO_NEXT_UPDATE = "none"


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


TITLE_MAX_CHARS = 200  # what the incidents table keeps


def refuse_too_long(field: str, value: str, limit: int) -> None:
    """Bad input is an error naming the field and the limit, not a database error (PostgreSQL
    refuses what does not fit; SQLite would keep it)."""
    if len(value) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters, got {len(value)}")


def parse_choice(enum: type[StrEnum], value: str, field: str) -> StrEnum:
    try:
        return enum(value.strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{field}: {value!r} is not one of {choices}") from None


_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)


def parse_next_update(value: str, now: datetime) -> datetime:
    """'30m', '2h', '1h30m' count from now; an ISO 8601 time is taken as given (UTC if naive).
    At most NEXT_UPDATE_MAX_AHEAD from now."""
    match = _DURATION.match(value)
    if match and any(match.groups()):
        hours, minutes = (int(part or 0) for part in match.groups())
        if hours == minutes == 0:
            raise InvalidInput("next update: must be in the future, not 0 minutes from now")
        return _within_reach(value, (now + timedelta(hours=hours, minutes=minutes)).replace(microsecond=0), now)
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
    return _within_reach(value, when, now)


def _within_reach(value: str, when: datetime, now: datetime) -> datetime:
    if when - now > NEXT_UPDATE_MAX_AHEAD:
        days = NEXT_UPDATE_MAX_AHEAD.days
        raise InvalidInput(f"next update: {value!r} is more than {days} days ahead; promise a time within "
                           f"{days} days, or give --next-update {NO_NEXT_UPDATE} to promise none")
    return when


def choose_next_update(given: str | None, inherited: datetime | None, status: IncidentStatus, now: datetime,
                       zone: tzinfo = UTC) -> datetime | None:
    """The next update time of a new version: the one given, none if 'none' is given or the
    incident is resolved, else the previous version's, which must still be ahead: a promise
    already broken is not carried forward silently, the author says what to promise now."""
    given = (given or "").strip()
    if given.lower() == NO_NEXT_UPDATE:
        return None
    chosen = parse_next_update(given, now) if given else inherited
    if status == IncidentStatus.RESOLVED or chosen is None:
        return None
    if not given and chosen <= now:
        from .clock import clock  # Babel's, loaded only to say a time

        raise InvalidInput(f"next update: the previous version promised an update by {clock(chosen, zone, now)}, "
                           f"which has passed; give a new one (e.g. --next-update 30m) or --next-update "
                           f"{NO_NEXT_UPDATE} to promise none")
    return chosen


def refuse_stale_next_update(next_update_at: datetime | None, now: datetime, zone: tzinfo = UTC) -> None:
    """Raise NotAllowed if the statement promises an update by a time already past (checked at publish)."""
    if next_update_at is not None and next_update_at <= now:
        from .clock import clock  # Babel's, loaded only to say a time

        raise NotAllowed(f"the next update time {clock(next_update_at, zone, now)} has passed: set a new one with "
                         "--next-update before publishing; customers must never read a promise already broken")


def refuse_next_update_day_changed(next_update_at: datetime | None, rendered_at: datetime, now: datetime,
                                   zone: tzinfo = UTC) -> None:
    """Raise NotAllowed if the time as rendered at `rendered_at` no longer reads true `now`
    ('tomorrow 09:00 EST' written yesterday means today). Renditions are frozen at submit, so a
    statement published on a later local day must be edited and approved again."""
    if next_update_at is None:
        return
    from .clock import clock  # Babel's: a command that checks no time does not load it

    written, true_now = clock(next_update_at, zone, rendered_at), clock(next_update_at, zone, now)
    if written != true_now:
        raise NotAllowed(f"the statement says the next update is '{written}', but today that time is "
                         f"'{true_now}': edit the statement (a new version) and have it approved again")
