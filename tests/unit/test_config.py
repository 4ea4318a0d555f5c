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


def test_the_secret_key_is_read_from_the_secret_file_when_not_set(tmp_path):
    from broadcaster.config import create_secret_file

    path = tmp_path / ".broadcaster-secret"
    assert create_secret_file(path) and not create_secret_file(path)  # never overwritten
    assert path.stat().st_mode & 0o777 == 0o600
    assert Settings(_env_file=None, secret_file=path).secret_key == path.read_text().strip()
    assert Settings(_env_file=None, secret_file=path, secret_key="given").secret_key == "given"


def test_no_secret_file_and_no_key_is_an_empty_key(tmp_path):
    assert Settings(_env_file=None, secret_file=tmp_path / "missing").secret_key == ""


def test_a_secret_file_others_can_read_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "secret"
    path.write_text("k" * 40)
    path.chmod(0o644)
    with pytest.raises(InvalidInput, match=f"can be read by others \\(mode 644\\); make it yours alone with "
                                           f"`chmod 600 {path}`"):
        Settings(_env_file=None, secret_file=path)
