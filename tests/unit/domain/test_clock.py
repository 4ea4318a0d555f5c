from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from broadcaster.domain.clock import abbreviation, clock, spoken_clock

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
    assert clock(datetime(2026, 11, 24, 5, 25, tzinfo=UTC), NEW_YORK, now) == "tomorrow 00:25 EST"


def test_a_time_two_or_more_days_ahead_gives_its_date():
    assert clock(datetime(2026, 11, 25, 18, 25, tzinfo=UTC), NEW_YORK, NOVEMBER_AFTERNOON) == "Wed 25 Nov 13:25 EST"


def test_a_time_half_a_year_away_gives_its_year():
    assert clock(datetime(2027, 6, 1, 12, 0, tzinfo=UTC), UTC, NOVEMBER_AFTERNOON) == "Tue 1 Jun 2027 12:00 UTC"


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
    (datetime(2026, 11, 24, 5, 0, tzinfo=UTC), "12:00 AM EST tomorrow"),
    (datetime(2026, 11, 25, 14, 30, tzinfo=UTC), "9:30 AM EST on Wednesday, November 25"),
])
def test_spoken_time_reads_naturally(when, spoken):
    assert spoken_clock(when, NEW_YORK, NOVEMBER_AFTERNOON) == spoken

