"""Uptime maths: minutes per state per day, overlaps counted once in the worst state, and the
weighted percentage, from approved state changes with known minutes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcaster.domain.uptime import DAYS, Change, daily, spans, uptime_percent

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # noon: today has 720 minutes so far
MIDNIGHT = datetime(2026, 3, 31, tzinfo=UTC)


def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    return MIDNIGHT - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)


def login_days(changes, since=None, zone=UTC):
    found = [s for s in spans(changes, NOW) if s.component == "Login"]
    return daily(found, since, NOW, zone)


def test_a_quiet_component_is_up_all_the_time():
    days = login_days({})
    assert len(days) == DAYS and days[-1].day == NOW.date() and days[0].day == NOW.date() - timedelta(days=89)
    assert {d.level for d in days} == {"operational"}
    assert days[-1].observed == 720 and days[0].observed == 1440
    assert uptime_percent(days) == 100.0


def test_known_minutes_give_the_expected_percentages():
    # Incident 1: 60 minutes major, then 120 minutes partial, then resolved (10 days ago).
    # Incident 2: 300 minutes degraded (5 days ago): shown on the bar, but the service worked.
    changes = {
        1: [Change(1, at(10, 9), {"Login": "major_outage"}), Change(1, at(10, 10), {"Login": "partial_outage"}),
            Change(1, at(10, 12), {})],
        2: [Change(2, at(5, 1), {"Login": "degraded_performance"}), Change(2, at(5, 6), {})],
    }
    days = login_days(changes)
    ten, five = days[-11], days[-6]
    assert ten.minutes == {"major_outage": 60.0, "partial_outage": 120.0} and ten.level == "major_outage"
    assert ten.incidents == [1] and ten.downtime == pytest.approx(96.0)  # 60 + 0.3 × 120
    assert five.minutes == {"degraded_performance": 300.0} and five.level == "degraded_performance"
    assert five.downtime == 0
    observed = 89 * 1440 + 720
    assert uptime_percent(days) == int(10000 * (1 - 96 / observed)) / 100 == 99.92


def test_overlapping_incidents_count_each_minute_once_in_the_worst_state():
    changes = {1: [Change(1, at(1, 10), {"Login": "partial_outage"}), Change(1, at(1, 14), {})],
               2: [Change(2, at(1, 12), {"Login": "major_outage"}), Change(2, at(1, 13), {})]}
    day = login_days(changes)[-2]
    assert day.minutes == {"partial_outage": 180.0, "major_outage": 60.0}
    assert day.incidents == [1, 2]


def test_an_outage_across_midnight_is_split_between_days_and_an_open_one_runs_until_now():
    changes = {1: [Change(1, at(2, 23), {"Login": "major_outage"}), Change(1, at(1, 1), {})],
               2: [Change(2, at(0, 11), {"Login": "major_outage"})]}
    days = login_days(changes)
    assert days[-3].minutes == {"major_outage": 60.0} and days[-2].minutes == {"major_outage": 60.0}
    assert days[-1].minutes == {"major_outage": 60.0}  # 11:00 until now (noon), still open


def test_days_follow_the_page_time_zone():
    tokyo = ZoneInfo("Asia/Tokyo")  # 23:00–01:00 UTC is 08:00–10:00 the next day in Tokyo
    changes = {1: [Change(1, at(2, 23), {"Login": "major_outage"}), Change(1, at(1, 1), {})]}
    days = login_days(changes, zone=tokyo)
    assert [d.minutes for d in days if d.minutes] == [{"major_outage": 120.0}]


def test_days_before_the_component_existed_are_no_data_and_not_counted():
    days = login_days({}, since=at(1, 12))
    assert [d.level for d in days[-3:]] == ["no_data", "operational", "operational"]
    assert days[-2].observed == 720
    changes = {1: [Change(1, at(0, 0), {"Login": "major_outage"}), Change(1, at(0, 6), {})]}
    days = login_days(changes, since=at(1, 12))
    assert uptime_percent(days) == 75.0  # 360 minutes down of 1440 observed


def test_a_half_up_component_and_nothing_observed():
    changes = {1: [Change(1, at(89, 0), {"Login": "major_outage"}), Change(1, at(45, 18), {})]}  # 44.75 of 89.5 days
    assert uptime_percent(login_days(changes)) == 50.0
    assert uptime_percent([]) is None
