"""The filters a language's templates use: times, spans, durations and lists said in that language
(``domain/clock.py``, CLDR through Babel), a sentence's full stop, HTML escaping of shared phrases,
JSON, and ``said`` (``notice_words.py``). ``environment.py`` installs ``filters_for(locale)``.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Undefined, UndefinedError, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..domain import clock as domain_clock
from ..domain.locales import plural_category
from .notice_words import said

# Where a sentence ends with something other than ".": the full stop of languages written without spaces.
FULL_STOPS = {"ja": "。", "zh": "。"}
SENTENCE_ENDS = ".!?。！？"


def sentence(value: str, locale: str = "en") -> str:
    """End a phrase with a full stop unless it already ends a sentence."""
    value = value.strip()
    if not value or value[-1] in SENTENCE_ENDS:
        return value
    return value + FULL_STOPS.get(locale.split("-")[0], ".")


def _zone(value: Any) -> tzinfo:
    """The context's ``tz``: a ZoneInfo, or its key ('America/New_York')."""
    return value if isinstance(value, tzinfo) else ZoneInfo(str(value))


def _resolve(context: Context, *names: str) -> list[Any]:
    """The context's values; a missing one is an undefined-variable error naming it."""
    values = [context.resolve(name) for name in names]
    for name, given in zip(names, values, strict=True):
        if isinstance(given, Undefined):
            raise UndefinedError(f"'{name}' is undefined")
    return values


def _time_filter(format_time: Callable[..., str], locale: str) -> Callable:
    """A filter that formats a datetime in the context's zone (``tz``), relative to its ``now``,
    in the environment's language."""
    @pass_context
    def time_filter(context: Context, value: datetime | None, dated: bool = False) -> str:
        if not value:
            return ""
        zone, now = _resolve(context, "tz", "now")
        return _formatted(format_time, value, _zone(zone), now, locale, dated)
    return time_filter


@lru_cache(maxsize=4096)
def _formatted(format_time: Callable[..., str], value: datetime, zone: tzinfo, now: datetime, locale: str,
               dated: bool) -> str:
    """A time as `format_time` says it, worked out once (CLDR's patterns through Babel) for the
    several templates of a statement that say it: the next update's time is in five of them."""
    return format_time(value, zone, now, locale, dated=dated)


@lru_cache(maxsize=1024)
def _window(start: datetime, end: datetime, zone: tzinfo, now: datetime, locale: str, day: bool) -> str:
    """A span as ``domain_clock.window`` says it, worked out once: a resolved incident's span is in
    every channel's ``words.affected()``, and said again for an SMS (its phrases with a hyphen)."""
    return domain_clock.window(start, end, zone, now, locale, day=day)


@lru_cache(maxsize=1024)
def _duration(span: timedelta, locale: str) -> str:
    """'38 minutes', once per span and language (beside the span above: Babel's unit patterns)."""
    return domain_clock.duration(span, locale)


@lru_cache(maxsize=1024)
def _names(items: tuple[str, ...], locale: str) -> str:
    """'Login, API, and Billing', once per list and language (Babel's list patterns are slow to look up)."""
    return domain_clock.names(list(items), locale)


def _for_sms(context: Context, text: str) -> str:
    """A template that sets `gsm` (an SMS) gets CLDR's en dash as a hyphen: GSM-7 has no en dash,
    and one character outside it makes the whole text UCS-2, halving what a segment holds. (That is
    all `gsm` changes: notice_words.py says a phrase without an en dash the same way in an SMS.)"""
    return text.replace("\u2013", "-") if context.get("gsm") else text


def escaped(value: Any) -> Markup:
    """A phrase from templates/_words/ (plain text: shared with the SMS and the IVR), escaped for an
    HTML template. A macro from a text template comes back marked safe though nothing in it was
    escaped: every HTML template passes one through this."""
    return escape(str(value))


def filters_for(locale: str) -> dict[str, Callable]:
    @pass_context
    def span(context: Context, ends: tuple | None, day: bool = True, utc: bool = False) -> str:
        """(start, end) → 'Sun, Nov 29, 02:00 – 04:00 EST'; day=False within today: '14:02 – 14:40 EST';
        utc=True: the same span in UTC, its date only where it differs from the local one ('' when
        the zone is UTC already: nothing to add)."""
        if not ends or not ends[0] or not ends[1]:
            return ""
        zone, now = _resolve(context, "tz", "now")
        zone = _zone(zone)
        if utc:
            if domain_clock.abbreviation(ends[0], zone) == "UTC" == domain_clock.abbreviation(ends[1], zone):
                return ""
            same_days = all(end.astimezone(zone).date() == end.astimezone(UTC).date() for end in ends)
            return _for_sms(context, _window(ends[0], ends[1], UTC, now, locale, not same_days))
        if not day:  # the times alone only where the day goes without saying: today
            day = domain_clock.localise(ends[0], zone, now).day != "today"
        return _for_sms(context, _window(ends[0], ends[1], zone, now, locale, day))

    @pass_context
    def spoken_time(context: Context, value: datetime | None) -> str:
        return domain_clock.spoken_time(value, _zone(_resolve(context, "tz")[0]), locale) if value else ""

    @pass_context
    def stamp(context: Context, value: datetime | None) -> str:
        return domain_clock.stamp(value, _zone(_resolve(context, "tz")[0]), locale) if value else ""

    def duration(span: tuple | timedelta | None) -> str:
        """(start, end) or a timedelta → '38 minutes', '1 hour and 40 minutes', '2 hours'. A span's length is
        the one its times say: `span` shows each end to the minute, so 13:22:50 – 14:00:10 is '13:22 – 14:00'
        and 38 minutes, not the 37 its seconds would round to."""
        if isinstance(span, timedelta):
            return _duration(span, locale)
        if not (span and span[0] and span[1]):
            return ""
        start, end = (at.replace(second=0, microsecond=0) for at in span[:2])
        return _duration(end - start, locale)

    return {
        "clock": _time_filter(domain_clock.clock, locale),  # '13:25 EST', 'tomorrow at 13:25 EST'
        "spoken_clock": _time_filter(domain_clock.spoken_clock, locale),  # 'tomorrow at 1:25 PM EST'
        "spoken_day": _time_filter(domain_clock.spoken_day, locale),  # 'today', 'Sunday, November 29'
        "date": _time_filter(domain_clock.date, locale),  # 'Sun, Nov 29'
        "stamp": stamp,  # 'Nov 23, 2026, 14:05 UTC'
        "spoken_time": spoken_time, "span": span, "duration": duration,
        "names": lambda items: _names(tuple(items or ()), locale),  # 'Login, API, and Billing'
        "sentence": lambda value: sentence(value, locale), "escaped": escaped,
        "said": said,  # words.titled() as the compiler writes it: compiled_phrases.py
        "tojson": _tojson,
        # '1 statement waits', '2 statements wait': the form CLDR's plural rule picks (operators' pages).
        "plural": lambda count, one, other: f"{count} {one if plural_category(count, locale) == 'one' else other}",
    }


_SORTED_JSON = json.JSONEncoder(sort_keys=True)


def json_dumps(value: Any, **options: Any) -> str:
    """``json.dumps(value, sort_keys=True)`` (Jinja's tojson policy), by one encoder built once."""
    if options == {"sort_keys": True}:
        return _SORTED_JSON.encode(value)
    return json.dumps(value, **options)


def _tojson(value: Any, indent: int | None = None) -> Markup:
    """Jinja's ``tojson`` under the policy ``json_dumps`` (``htmlsafe_json_dumps``: sorted keys, then ``<``, ``>``,
    ``&`` and ``'`` as ``\\u`` escapes, marked safe), without its three calls around the encoder: a
    statement's JSON documents call it about 30 times a language."""
    text = _SORTED_JSON.encode(value) if indent is None else json.dumps(value, sort_keys=True, indent=indent)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                  .replace("'", "\\u0027"))
