"""Times as customers read and hear them: in the company's zone, with that instant's
abbreviation, with the day whenever it is not today, in the reader's language.

"13:25" alone is misread by anyone in another zone, and "13:25 EST" at 23:50 is misread as
the past: a time not on today's local date says "tomorrow at 13:25 EST", or its date
("Tue, Nov 25, 13:25 EST"). The abbreviation is the zone's own for that instant (EST in
winter, EDT in summer). Pure functions: the caller passes the zone, ``now`` and the locale.
Naive datetimes are taken as UTC, as everything Broadcaster stores is.

Every name of a day or month, every order of date and time, every "tomorrow", every list and
duration comes from CLDR through Babel, never from the machine's locale: the same statement
renders to the same bytes on every machine, which the content hash needs.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from babel import Locale
from babel.dates import format_datetime, format_interval, format_skeleton, format_time
from babel.lists import format_list
from babel.units import format_unit

from .locales import cldr

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


def localise(value: datetime, zone: tzinfo, now: datetime, dated: bool = False) -> LocalTime:
    """`dated`: never 'today' or 'tomorrow', always the date: for words rendered long before they
    are read (a maintenance's three statements are approved days ahead of their window)."""
    local = _aware(value).astimezone(zone)
    today = _aware(now).astimezone(zone).date()
    if dated:
        day = "other"
    elif local.date() == today:
        day = "today"
    elif (local.date() - today).days == 1:
        day = "tomorrow"
    else:
        day = "other"
    show_year = abs(_aware(value) - _aware(now)) > _YEAR_AFTER
    return LocalTime(local, abbreviation(value, zone), day, show_year)


# CLDR sets some spaces narrow or unbreakable ('2:30\u202fPM', '02:00\u2009–\u200904:00'): typography a
# text message cannot carry (one would turn a whole SMS into UCS-2) and a voice does not need.
_SPACES = str.maketrans({"\u202f": " ", "\u2009": " ", "\u00a0": " "})


def _plain(text: str) -> str:
    return text.translate(_SPACES)


def _pattern(pattern: str, time: str, date: str) -> str:
    """A CLDR date-time pattern ("{1} 'at' {0}") filled in; quotes mark literal words."""
    return pattern.replace("'", "").replace("{0}", time).replace("{1}", date)


def _tomorrow(locale: Locale) -> str:
    # CLDR's relative day names ("tomorrow", "mañana", "明日"); Babel keeps them with the date fields.
    return locale._data["date_fields"]["day"]["relative"][1]


def _date(at: LocalTime, locale: Locale, wide: bool) -> str:
    """'Thu, Nov 26' or, wide, 'Thursday, November 26' (with the year when it is far off)."""
    skeleton = ("y" if at.show_year else "") + ("MMMMEd" if wide else "MMMEd")
    if not wide:
        return format_skeleton(skeleton, at.local, locale=locale)
    # CLDR has no skeleton with the weekday in full; widen its field as ICU does (quoted text kept).
    pattern = locale.datetime_skeletons[skeleton].pattern
    widened = re.sub(r"('[^']*')|E+", lambda m: m.group(1) or "EEEE", pattern)
    return format_datetime(at.local, widened, locale=locale)


def _with_day(at: LocalTime, time: str, locale: Locale, wide: bool) -> str:
    if at.day == "today":
        return time
    if at.day == "tomorrow":
        relative = dict(locale._data.get("datetime_formats_relative") or {})
        return _pattern(relative.get("long") or locale.datetime_formats["long"], time, _tomorrow(locale))
    return _pattern(locale.datetime_formats["long" if wide else "medium"], time, _date(at, locale, wide))


def clock(value: datetime, zone: tzinfo, now: datetime, locale: str = "en", dated: bool = False) -> str:
    """'13:25 EST', 'tomorrow at 13:25 EST', 'Tue, Nov 25, 13:25 EST' (written channels: 24-hour)."""
    at, loc = localise(value, zone, now, dated), cldr(locale)
    return _plain(_with_day(at, f"{format_skeleton('Hm', at.local, locale=loc)} {at.abbreviation}", loc, wide=False))


def spoken_time(value: datetime, zone: tzinfo, locale: str = "en") -> str:
    """'2:30 PM EST' (what a voice reads: the language's own short time)."""
    local = _aware(value).astimezone(zone)
    return _plain(f"{format_time(local, 'short', locale=cldr(locale))} {abbreviation(value, zone)}")


def spoken_day(value: datetime, zone: tzinfo, now: datetime, locale: str = "en", dated: bool = False) -> str:
    """'today', 'tomorrow' or 'Tuesday, November 25' in the language's words."""
    at, loc = localise(value, zone, now, dated), cldr(locale)
    if at.day == "today":
        return loc._data["date_fields"]["day"]["relative"][0]
    if at.day == "tomorrow":
        return _tomorrow(loc)
    return _plain(_date(at, loc, wide=True))


def spoken_clock(value: datetime, zone: tzinfo, now: datetime, locale: str = "en", dated: bool = False) -> str:
    """'2:30 PM EST', 'tomorrow at 2:30 PM EST', 'Tuesday, November 25, 2:30 PM EST'."""
    at, loc = localise(value, zone, now, dated), cldr(locale)
    return _plain(_with_day(at, spoken_time(value, zone, locale), loc, wide=True))


def window(start: datetime, end: datetime, zone: tzinfo, now: datetime, locale: str = "en",
           day: bool = True) -> str:
    """A span of time with its day: 'Sun, Nov 29, 02:00 – 04:00 EST', or across midnight
    'Sun, Nov 29, 23:00 EST – Mon, Nov 30, 01:00 EST'. With day=False, within one day, the times
    alone: '14:02 – 14:40 UTC' (for a span whose day is said already, or is today)."""
    first, last, loc = localise(start, zone, now), localise(end, zone, now), cldr(locale)
    if first.local.date() == last.local.date() and first.abbreviation == last.abbreviation:
        times = f"{format_interval(first.local, last.local, 'Hm', locale=loc)} {first.abbreviation}"
        if not day:
            return _plain(times)
        date = format_skeleton(("y" if first.show_year else "") + "MMMEd", first.local, locale=loc)
        return _plain(_pattern(loc.datetime_formats["medium"], times, date))
    ends = []
    for at in (first, last):
        time = f"{format_skeleton('Hm', at.local, locale=loc)} {at.abbreviation}"
        date = format_skeleton(("y" if at.show_year else "") + "MMMEd", at.local, locale=loc)
        ends.append(_pattern(loc.datetime_formats["medium"], time, date))
    return _plain(loc.interval_formats[None].replace("{0}", ends[0]).replace("{1}", ends[1]))


def duration(span: timedelta, locale: str = "en") -> str:
    """'38 minutes', '2 hours', '1 hour and 40 minutes', '3 days and 2 hours' (whole minutes)."""
    loc = cldr(locale)
    minutes = max(0, round(span.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [format_unit(n, unit, length="long", locale=loc) for n, unit in
             ((days, "duration-day"), (hours, "duration-hour"), (minutes, "duration-minute")) if n]
    if not parts:
        parts = [format_unit(0, "duration-minute", length="long", locale=loc)]
    return _plain(format_list(parts[:2], style="standard", locale=loc))


def names(items: list[str], locale: str = "en") -> str:
    """'Login, API and Billing' in the language's own way of listing."""
    return format_list(list(items), style="standard", locale=cldr(locale)) if items else ""


def date(value: datetime, zone: tzinfo, now: datetime, locale: str = "en", dated: bool = True) -> str:
    """'Sun, Nov 29' (the year too when it is far off): the day, for a line with no room for times."""
    return _plain(_date(localise(value, zone, now, dated), cldr(locale), wide=False))


def stamp(value: datetime, zone: tzinfo, locale: str = "en") -> str:
    """'Nov 23, 2026, 14:05 UTC': when something was said, as a record (the status page's updates)."""
    local, loc = _aware(value).astimezone(zone), cldr(locale)
    time = f"{format_skeleton('Hm', local, locale=loc)} {abbreviation(value, zone)}"
    return _plain(_pattern(loc.datetime_formats["medium"], time, format_skeleton("yMMMd", local, locale=loc)))
