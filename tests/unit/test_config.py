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


# --- web addresses: what people type, made right once, checked when the settings are read --------------

@pytest.mark.parametrize(("typed", "kept"), [
    ("https://status.example.com", "https://status.example.com"),
    ("https://status.example.com/", "https://status.example.com"),
    ("https://status.example.com/status", "https://status.example.com"),
    ("https://status.example.com/status/", "https://status.example.com"),
    ("https://status.example.com/status#incident-1", "https://status.example.com"),
    ("https://status.example.com/api/v2/summary.json", "https://status.example.com"),
    ("status.example.com/banner.js", "https://status.example.com"),
    (" https://example.com/outages/status?utm=x ", "https://example.com/outages"),  # mounted under a prefix
    ("localhost:8081/status", "http://localhost:8081"),
])
def test_the_status_page_url_is_the_site_whatever_page_of_it_is_typed(typed, kept):
    settings = Settings(_env_file=None, status_page_url=typed)
    assert settings.status_page_url == kept


def test_the_banner_links_to_the_incident_on_the_status_page_not_a_page_under_it():
    """The bug: BROADCASTER_STATUS_PAGE_URL=.../status made the banner link .../status/status#incident-1 (404)."""
    from broadcaster.surfaces.documents import Site

    for typed in ("https://status.example.com/status", "https://status.example.com/", "status.example.com"):
        settings = Settings(_env_file=None, status_page_url=typed)
        assert Site(settings, settings.default_locale).incident_url(1) == "https://status.example.com/status#incident-1"


@pytest.mark.parametrize(("typed", "kept"), [
    ("https://broadcaster.example.com/", "https://broadcaster.example.com"),
    ("https://broadcaster.example.com/dashboard/statements/3", "https://broadcaster.example.com"),
    ("https://example.com/comms/webhooks/twilio/status", "https://example.com/comms"),
    ("broadcaster.example.com/login", "https://broadcaster.example.com"),
    ("", None), ("  ", None),  # BROADCASTER_PUBLIC_URL= in an .env: unset
])
def test_the_public_url_is_the_server_whatever_page_of_it_is_typed(typed, kept):
    assert Settings(_env_file=None, public_url=typed).public_url == kept


def test_the_support_url_is_a_page_and_kept_as_typed():
    assert Settings(_env_file=None, support_url="help.example.com/outages?from=status").support_url == (
        "https://help.example.com/outages?from=status")


@pytest.mark.parametrize(("field", "value", "purpose"), [
    ("status_page_url", "ftp://status.example.com", "the public status site every message and the banner link to"),
    ("public_url", "https://", "the address providers and people reach this server at"),
    ("support_url", "", "the help centre customers are sent to from emails"),
    ("twilio_api_base", "http://exa mple", "where the Twilio SDK sends its requests"),
])
def test_a_web_address_that_is_not_one_is_refused_naming_the_setting_and_what_it_is_for(field, value, purpose):
    with pytest.raises(InvalidInput) as refused:
        Settings(_env_file=None, **{field: value})
    message = str(refused.value)
    assert message.startswith(f"BROADCASTER_{field.upper()}: ") and purpose in message and "\n" not in message


def test_every_page_a_broadcaster_site_serves_is_cut_back_to_the_site():
    from broadcaster.config import APP_PAGES, STATUS_SITE_PAGES
    from broadcaster.surfaces import ROUTES

    assert {path.split("/")[1] for path in ROUTES} <= STATUS_SITE_PAGES
    for page in ("/dashboard", "/webhooks/twilio/status", "/ivr/voice", "/approve/1", "/hold/1", "/unsubscribe",
                 "/login", "/api/v1/statements", "/subscribe/confirm", "/metrics", "/healthz", "/docs"):
        assert page.split("/")[1] in APP_PAGES
        assert Settings(_env_file=None, public_url=f"https://b.example.com{page}").public_url == "https://b.example.com"
