from zoneinfo import ZoneInfo

import pytest

from broadcaster.config import Settings
from broadcaster.domain.errors import InvalidInput


def test_timezone_is_an_iana_zone_and_defaults_to_utc():
    assert Settings(_env_file=None).zone == ZoneInfo("UTC")
    assert Settings(_env_file=None, timezone="America/New_York").zone == ZoneInfo("America/New_York")


def test_timezone_is_read_from_broadcaster_timezone(monkeypatch):
    monkeypatch.setenv("BROADCASTER_TIMEZONE", "Europe/London")
    assert Settings(_env_file=None).zone == ZoneInfo("Europe/London")


@pytest.mark.parametrize("value", ["ET", "america/new_york", "America", "../etc/passwd", ""])
def test_a_timezone_that_is_not_an_iana_zone_is_one_line_naming_the_setting(value):
    with pytest.raises(InvalidInput) as excinfo:
        Settings(_env_file=None, timezone=value)
    assert str(excinfo.value) == (f"BROADCASTER_TIMEZONE: {value!r} is not an IANA time zone; use a name such as "
                                  "'America/New_York', 'Europe/London' or 'UTC'")
