"""`tests/conftest.make_settings` skips reading the environment when no variable names a field (a
fifth of the cost of a `Settings`): what it gives must be what `Settings` gives, and a variable a test
sets must still count."""

import os

from broadcaster.config import Settings
from tests.conftest import TEST_SECRET_KEY, make_settings


def _plain(settings) -> dict:
    return settings.model_dump(exclude={"public_spool_path"})  # a fresh spool path each call


def test_without_a_field_variable_the_values_are_those_settings_makes(monkeypatch):
    for name in [name for name in os.environ if name.upper().startswith("BROADCASTER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BROADCASTER_TEST_REDIS_URL", "redis://127.0.0.1:1")  # names no field: ignored by both
    given = {"timezone": "America/New_York", "locales": "es,ja", "x_rate": "5/second"}
    fast = make_settings("sqlite:///a.db", **given)
    assert type(fast) is not Settings and isinstance(fast, Settings)  # the fast path was taken
    slow = Settings(_env_file=None, database_url="sqlite:///a.db", secret_key=TEST_SECRET_KEY, **given)
    assert _plain(fast) == _plain(slow) and fast.locales == ["es", "ja"]
    assert fast.secret_source == slow.secret_source == "BROADCASTER_SECRET_KEY"


def test_a_variable_naming_a_field_is_read_as_settings_reads_it(monkeypatch):
    monkeypatch.setenv("broadcaster_company_name", "Acme")  # any case, as pydantic-settings matches it
    monkeypatch.setenv("BROADCASTER_TIMEZONE", "Europe/London")
    settings = make_settings("sqlite:///a.db")
    assert type(settings) is Settings
    assert settings.company_name == "Acme" and settings.timezone == "Europe/London"
    assert make_settings("sqlite:///a.db", timezone="UTC").timezone == "UTC"  # a keyword still wins
