"""Times as customers read and hear them: in the company's zone, with that instant's
abbreviation, and with the day whenever it is not today.

"13:25" alone is misread by anyone in another zone, and "13:25 EST" at 23:50 is misread as
the past: a time not on today's local date says "tomorrow 13:25 EST", or its date
("Tue 25 Nov 13:25 EST"). The abbreviation is the zone's own for that instant (EST in
winter, EDT in summer). Pure functions: the caller passes the zone and ``now``. Naive
datetimes are taken as UTC, as everything Broadcaster stores is.

Names of days and months are fixed English, not the machine's locale: the same statement
renders to the same bytes on every machine, which the content hash needs.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
# Further away than this, a date carries its year.
_YEAR_AFTER = timedelta(days=180)


@dataclass(frozen=True)
class LocalTime:
    """One instant as the zone shows it: the local time, its abbreviation, and the day relative to now."""

    local: datetime
    abbreviation: str  # "EST", "EDT", "UTC", or "UTC+3" where the zone has no letters
    day: str  # "today", "tomorrow" or "other"
    show_year: bool


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def abbreviation(value: datetime, zone: tzinfo) -> str:
    """The zone's abbreviation for that instant. Zones without letters (Asia/Dubai says '+04',
    a fixed offset 'UTC+01:00') become 'UTC+4', 'UTC+5:30', which nobody mistakes for a number."""
    local = _aware(value).astimezone(zone)
    name = local.tzname() or ""
    if name.isalpha():
        return name
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    if hours == minutes == 0:
        return "UTC"
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def localise(value: datetime, zone: tzinfo, now: datetime) -> LocalTime:
    local = _aware(value).astimezone(zone)
    today = _aware(now).astimezone(zone).date()
    if local.date() == today:
        day = "today"
    elif (local.date() - today).days == 1:
        day = "tomorrow"
    else:
        day = "other"
    show_year = abs(_aware(value) - _aware(now)) > _YEAR_AFTER
    return LocalTime(local, abbreviation(value, zone), day, show_year)


def clock(value: datetime, zone: tzinfo, now: datetime) -> str:
    """'13:25 EST', 'tomorrow 13:25 EST', 'Tue 25 Nov 13:25 EST' (written channels)."""
    at = localise(value, zone, now)
    time = f"{at.local:%H:%M} {at.abbreviation}"
    if at.day == "today":
        return time
    if at.day == "tomorrow":
        return f"tomorrow {time}"
    date = f"{DAYS[at.local.weekday()][:3]} {at.local.day} {MONTHS[at.local.month - 1][:3]}"
    if at.show_year:
        date += f" {at.local.year}"
    return f"{date} {time}"


def spoken_clock(value: datetime, zone: tzinfo, now: datetime) -> str:
    """'2:30 PM EST', '2:30 PM EST tomorrow', '2:30 PM EST on Tuesday, November 25' (what a
    voice reads: twelve-hour time without a leading zero, the day after the time)."""
    at = localise(value, zone, now)
    hour = at.local.hour % 12 or 12
    time = f"{hour}:{at.local.minute:02d} {'AM' if at.local.hour < 12 else 'PM'} {at.abbreviation}"
    if at.day == "today":
        return time
    if at.day == "tomorrow":
        return f"{time} tomorrow"
    date = f"{DAYS[at.local.weekday()]}, {MONTHS[at.local.month - 1]} {at.local.day}"
    if at.show_year:
        date += f", {at.local.year}"
    return f"{time} on {date}"
