from datetime import UTC, datetime, timedelta

import pytest

from broadcaster.domain.errors import InvalidInput
from broadcaster.domain.incident import Impact, parse_choice, parse_next_update

NOW = datetime(2026, 11, 23, 14, 0, 30, 123456, tzinfo=UTC)


@pytest.mark.parametrize(("text", "minutes"), [("30m", 30), ("2h", 120), ("1h30m", 90), ("45min", 45)])
def test_next_update_as_a_duration_counts_from_now(text, minutes):
    assert parse_next_update(text, NOW) == (NOW + timedelta(minutes=minutes)).replace(microsecond=0)


def test_next_update_as_an_iso_time_is_taken_as_given_in_utc():
    assert parse_next_update("2026-11-23T16:00", NOW) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "problem"), [("soon", "neither a duration"), ("2026-11-23T13:00", "in the past"),
                                               ("0m", "must be in the future")])
def test_next_update_that_makes_no_sense_says_why(text, problem):
    with pytest.raises(InvalidInput, match=problem):
        parse_next_update(text, NOW)


def test_unknown_impact_lists_the_choices():
    with pytest.raises(InvalidInput, match="impact: 'huge' is not one of none, minor, major, critical"):
        parse_choice(Impact, "huge", "impact")
    assert parse_choice(Impact, " MAJOR ", "impact") is Impact.MAJOR
