"""When someone refused for too many tries is told to try again: a whole minute not yet begun (a clock
time that has passed would be refused again), and, across several limits on one attempt, the time the
full ones free a slot, not the reset of a window that refuses nothing (an hour away when it is empty)."""

from datetime import UTC, datetime, timedelta

from broadcaster.people.auth import limit_window, over_limit, tightest_window
from tests.conftest import make_settings


def fresh_settings(tmp_path):
    return make_settings(f"sqlite:///{tmp_path}/counters.db")  # its own namespace in the in-memory counters


def test_the_time_to_try_again_is_a_whole_minute_after_the_window_frees(tmp_path):
    settings = fresh_settings(tmp_path)
    before = datetime.now(UTC)
    assert not over_limit(settings, "1/minute", "pin", "user:1")
    left, retry_at = limit_window(settings, "1/minute", "pin", "user:1")
    assert left == 0 and retry_at.second == 0 and retry_at.microsecond == 0
    assert before + timedelta(minutes=1) <= retry_at <= datetime.now(UTC) + timedelta(minutes=2)


def test_across_limits_the_full_one_says_when_not_an_empty_one(tmp_path):
    settings = fresh_settings(tmp_path)
    per_person, per_number = ("1/minute", "pin", "user:1"), ("5/hour", "pin", "from:+14155550142")
    over_limit(settings, *per_person)  # full for a minute; the number's hour-long window is empty
    assert limit_window(settings, *per_number)[1] > datetime.now(UTC) + timedelta(minutes=55)  # what misled
    left, retry_at = tightest_window(settings, [per_person, per_number])
    assert left == 0 and retry_at == limit_window(settings, *per_person)[1]
    assert retry_at <= datetime.now(UTC) + timedelta(minutes=2)
    over_limit(settings, *per_number)
    assert tightest_window(settings, [per_number])[0] == 4  # tries left: the fewest of the windows
