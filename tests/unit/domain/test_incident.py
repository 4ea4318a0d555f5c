from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.domain.incident import (
    Impact,
    IncidentStatus,
    choose_next_update,
    parse_choice,
    parse_next_update,
    refuse_next_update_day_changed,
    refuse_stale_next_update,
)

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


def test_next_update_more_than_a_week_ahead_is_refused():
    with pytest.raises(InvalidInput, match=r"'2026-12-01T14:00' is more than 7 days ahead"):
        parse_next_update("2026-12-01T14:00", NOW)
    with pytest.raises(InvalidInput, match=r"'200h' is more than 7 days ahead.*--next-update none"):
        parse_next_update("200h", NOW)
    assert parse_next_update("168h", NOW) == (NOW + timedelta(days=7)).replace(microsecond=0)


PROMISED = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def test_an_inherited_next_update_still_ahead_is_kept():
    assert choose_next_update(None, PROMISED, IncidentStatus.INVESTIGATING, NOW) == PROMISED


def test_an_inherited_next_update_already_past_is_refused_not_dropped():
    later = PROMISED + timedelta(minutes=5)
    with pytest.raises(InvalidInput, match=r"promised an update by 14:30 UTC, which has passed; give a new one "
                                           r"\(e.g. --next-update 30m\) or --next-update none"):
        choose_next_update(None, PROMISED, IncidentStatus.MONITORING, later)


def test_an_inherited_past_next_update_is_fine_once_resolved():
    assert choose_next_update(None, PROMISED, IncidentStatus.RESOLVED, PROMISED + timedelta(hours=1)) is None


def test_none_promises_no_next_update_even_if_one_was_inherited():
    assert choose_next_update("None", PROMISED, IncidentStatus.IDENTIFIED, PROMISED + timedelta(hours=1)) is None


def test_a_given_next_update_replaces_the_inherited_one():
    assert choose_next_update("1h", PROMISED, IncidentStatus.IDENTIFIED, NOW) == datetime(2026, 11, 23, 15, 0, 30,
                                                                                           tzinfo=UTC)


def test_a_resolved_statement_promises_no_next_update_even_if_given():
    assert choose_next_update("1h", None, IncidentStatus.RESOLVED, NOW) is None


def test_a_stale_next_update_is_refused_at_publish_with_the_time_in_the_message():
    with pytest.raises(NotAllowed, match=r"^the next update time 14:30 UTC has passed: set a new one with "
                                         r"--next-update before publishing; customers must never read a promise "
                                         r"already broken$"):
        refuse_stale_next_update(PROMISED, PROMISED + timedelta(minutes=1))


def test_a_stale_next_update_is_told_in_the_company_zone_when_given():
    with pytest.raises(NotAllowed, match=r"the next update time 09:30 EST has passed"):
        refuse_stale_next_update(PROMISED, PROMISED + timedelta(minutes=1), ZoneInfo("America/New_York"))


def test_a_next_update_still_ahead_or_absent_may_be_published():
    refuse_stale_next_update(PROMISED, PROMISED - timedelta(seconds=1))
    refuse_stale_next_update(None, PROMISED)
    with pytest.raises(NotAllowed):
        refuse_stale_next_update(PROMISED, PROMISED)  # due now is already too late to promise


def test_a_tomorrow_written_yesterday_is_refused_at_publish():
    written = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 17:00 EST on Monday
    promised = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 09:00 EST on Tuesday: "tomorrow" when written
    with pytest.raises(NotAllowed, match=r"says the next update is 'tomorrow at 09:00 EST', but today that time is "
                                         r"'09:00 EST': edit the statement"):
        refuse_next_update_day_changed(promised, written, datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
                                       ZoneInfo("America/New_York"))


def test_a_next_update_that_reads_the_same_today_may_be_published():
    written = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    refuse_next_update_day_changed(datetime(2026, 11, 24, 14, 0, tzinfo=UTC), written,
                                   written + timedelta(hours=1), ZoneInfo("America/New_York"))
    refuse_next_update_day_changed(None, written, written + timedelta(days=2))
