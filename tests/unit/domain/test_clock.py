from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from broadcaster.domain.clock import abbreviation, clock, duration, names, spoken_clock, window

NEW_YORK = ZoneInfo("America/New_York")
NOVEMBER_AFTERNOON = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 14:00 EST, Monday 23 November


def test_a_utc_time_is_shown_in_the_zone_with_its_winter_abbreviation():
    assert clock(datetime(2026, 11, 23, 20, 30, tzinfo=UTC), NEW_YORK, NOVEMBER_AFTERNOON) == "15:30 EST"


def test_a_summer_time_carries_the_summer_abbreviation():
    july = datetime(2026, 7, 14, 20, 30, tzinfo=UTC)
    assert clock(july, NEW_YORK, july - timedelta(hours=1)) == "16:30 EDT"


def test_the_abbreviation_follows_the_instant_across_the_dst_change():
    # Clocks go back at 06:00 UTC on 1 November 2026: 05:30 UTC is still EDT, 06:30 UTC is EST.
    assert abbreviation(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), NEW_YORK) == "EDT"
    assert abbreviation(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), NEW_YORK) == "EST"


def test_a_time_after_local_midnight_says_tomorrow():
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 EST on the 23rd; already the 24th in UTC
    assert clock(datetime(2026, 11, 24, 4, 30, tzinfo=UTC), NEW_YORK, now) == "23:30 EST"
    assert clock(datetime(2026, 11, 24, 5, 25, tzinfo=UTC), NEW_YORK, now) == "tomorrow at 00:25 EST"


def test_a_time_two_or_more_days_ahead_gives_its_date():
    assert clock(datetime(2026, 11, 25, 18, 25, tzinfo=UTC), NEW_YORK, NOVEMBER_AFTERNOON) == "Wed, Nov 25, 13:25 EST"


def test_a_time_half_a_year_away_gives_its_year():
    assert clock(datetime(2027, 6, 1, 12, 0, tzinfo=UTC), UTC, NOVEMBER_AFTERNOON) == "Tue, Jun 1, 2027, 12:00 UTC"


def test_utc_says_utc():
    assert clock(datetime(2026, 11, 23, 20, 30, tzinfo=UTC), ZoneInfo("UTC"), NOVEMBER_AFTERNOON) == "20:30 UTC"


@pytest.mark.parametrize(("zone", "expected"), [("Asia/Dubai", "UTC+4"), ("Asia/Kolkata", "IST"),
                                                ("America/Sao_Paulo", "UTC-3"), ("Asia/Kathmandu", "UTC+5:45")])
def test_a_zone_without_a_lettered_abbreviation_shows_its_offset(zone, expected):
    assert abbreviation(NOVEMBER_AFTERNOON, ZoneInfo(zone)) == expected


def test_a_naive_time_is_taken_as_utc():
    assert clock(datetime(2026, 11, 23, 20, 30), NEW_YORK, NOVEMBER_AFTERNOON) == "15:30 EST"


def test_a_fixed_offset_zone_works_too():
    assert clock(datetime(2026, 11, 23, 20, 30, tzinfo=UTC), timezone(timedelta(hours=1)), NOVEMBER_AFTERNOON) \
        == "21:30 UTC+1"


@pytest.mark.parametrize(("when", "spoken"), [
    (datetime(2026, 11, 23, 19, 30, tzinfo=UTC), "2:30 PM EST"),
    (datetime(2026, 11, 23, 17, 5, tzinfo=UTC), "12:05 PM EST"),
    (datetime(2026, 11, 24, 5, 0, tzinfo=UTC), "tomorrow at 12:00 AM EST"),
    (datetime(2026, 11, 25, 14, 30, tzinfo=UTC), "Wednesday, November 25, 9:30 AM EST"),
])
def test_spoken_time_reads_naturally(when, spoken):
    assert spoken_clock(when, NEW_YORK, NOVEMBER_AFTERNOON) == spoken



def test_times_days_and_dates_are_said_in_the_readers_language():
    at = datetime(2026, 11, 24, 18, 25, tzinfo=UTC)
    assert clock(at, NEW_YORK, NOVEMBER_AFTERNOON, "es") == "mañana, 13:25 EST"
    assert clock(at + timedelta(days=2), NEW_YORK, NOVEMBER_AFTERNOON, "es") == "jue, 26 nov, 13:25 EST"
    assert clock(at + timedelta(days=2), NEW_YORK, NOVEMBER_AFTERNOON, "ja") == "11月26日(木) 13:25 EST"


def test_a_date_is_said_when_the_words_are_read_long_after_they_were_written():
    # A maintenance's statements are approved days ahead: "tomorrow" would be wrong by then.
    at = datetime(2026, 11, 24, 18, 25, tzinfo=UTC)
    assert clock(at, NEW_YORK, NOVEMBER_AFTERNOON, dated=True) == "Tue, Nov 24, 13:25 EST"


def test_a_window_says_its_day_and_spans_midnight_with_both_dates():
    start = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert window(start, start + timedelta(hours=2), NEW_YORK, NOVEMBER_AFTERNOON) == "Sun, Nov 29, 02:00 – 04:00 EST"
    assert window(start, start + timedelta(hours=2), NEW_YORK, NOVEMBER_AFTERNOON, "es") == "dom, 29 nov, 2:00–4:00 EST"
    late = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    assert window(late, late + timedelta(hours=2), NEW_YORK, NOVEMBER_AFTERNOON) == \
        "Sun, Nov 29, 23:00 EST – Mon, Nov 30, 01:00 EST"


@pytest.mark.parametrize(("minutes", "locale", "said"), [
    (1, "en", "1 minute"), (38, "en", "38 minutes"), (60, "en", "1 hour"), (120, "en", "2 hours"),
    (100, "en", "1 hour and 40 minutes"), (60 * 27, "en", "1 day and 3 hours"), (100, "es", "1 hora y 40 minutos"),
])
def test_durations_and_their_plurals_come_from_cldr(minutes, locale, said):
    assert duration(timedelta(minutes=minutes), locale) == said


def test_lists_are_joined_as_the_language_joins_them():
    assert names(["Login", "API", "Billing"]) == "Login, API, and Billing"
    assert names(["Login", "API"], "es") == "Login y API"
