import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.channels import check_limits
from broadcaster.channels.sms import sms_encoding
from broadcaster.config import PROJECT_ROOT, Settings
from broadcaster.render import TemplateProblem, render_statement
from broadcaster.render.environment import channel_templates, environment
from tests.unit.render.contexts import complete

TEMPLATES = PROJECT_ROOT / "templates"


def context(**overrides):
    base = {
        "incident_id": 1, "incident_title": "Login failures", "version": 1, "status": "investigating",
        "impact": "major", "components": ["Login"], "headline": "Some customers cannot log in",
        "body": "We are investigating.", "workaround": "Use the mobile app.",
        "next_update_at": "2026-11-23T14:30:00+00:00", "next_update": datetime(2026, 11, 23, 14, 30, tzinfo=UTC),
        "company": "Example Co", "status_url": "https://status.example.com", "support_url": "https://help.example.com",
        "ivr_support_hint": "our website", "tz": "UTC", "now": datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
    }
    return complete({**base, **overrides})


def test_an_x_update_never_repeats_the_previous_post_word_for_word():
    # X refuses a post identical to a recent one: the status, the time and the version say what changed.
    first = render_statement(TEMPLATES, context())["x"]["text"]
    same_words_later = render_statement(TEMPLATES, context(version=2, now=datetime(2026, 11, 23, 14, 0, tzinfo=UTC)))
    same_version_other_time = render_statement(TEMPLATES, context(now=datetime(2026, 11, 23, 14, 20, tzinfo=UTC)))
    assert first.startswith("Investigating (14:00 UTC): Some customers cannot log in.")
    assert same_words_later["x"]["text"].startswith("Investigating (14:00 UTC, update 2): ")
    assert len({first, same_words_later["x"]["text"], same_version_other_time["x"]["text"]}) == 3


def test_every_channel_of_the_design_has_a_rendition():
    rendered = render_statement(TEMPLATES, context())
    assert set(rendered) == {"banner", "status_page", "x", "email", "sms", "ivr", "webhook", "reply", "agent",
                             "stakeholder", "slack", "teams"}
    assert set(rendered["agent"]) == {"summary", "say", "workaround", "avoid", "next_update", "answers"}
    assert set(rendered["email"]) == {"subject", "body_text", "body_html"}
    assert set(rendered["ivr"]) == {"script", "twiml", "ssml"}
    assert rendered["banner"]["severity"] == "major"


def test_script_in_the_body_is_escaped_in_html_but_plain_in_sms():
    attack = "<script>alert(1)</script>"
    rendered = render_statement(TEMPLATES, context(body=attack, headline=f"Down {attack}"))
    for html in (rendered["email"]["body_html"], rendered["status_page"]["body"]):
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert attack in rendered["sms"]["text"]
    assert attack in rendered["email"]["body_text"]


def test_twiml_and_ssml_carry_the_script_escaped_for_xml():
    rendered = render_statement(TEMPLATES, context(headline="Billing & payments <down>"))
    assert "Billing & payments <down>" in rendered["ivr"]["script"]
    assert "Billing &amp; payments &lt;down&gt;" in rendered["ivr"]["twiml"]
    assert '<Say language="en-US">' in rendered["ivr"]["twiml"]
    assert '<speak xml:lang="en-US">' in rendered["ivr"]["ssml"]


def test_resolved_statement_promises_no_next_update():
    rendered = render_statement(TEMPLATES, context(status="resolved"))
    for channel, fields in rendered.items():
        for name, text in fields.items():
            assert "next update" not in text.lower(), f"{channel}.{name}"
            assert "share more" not in text, f"{channel}.{name}"


@pytest.fixture
def templates_copy(tmp_path) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    yield copy
    environment.cache_clear()
    channel_templates.cache_clear()


def test_undefined_variable_names_the_template_the_variable_and_the_line(templates_copy):
    (templates_copy / "sms" / "text.txt").write_text("{{ company }}:\n{{ headline }} {{ eta_minutes }} min\n")
    with pytest.raises(TemplateProblem) as excinfo:
        render_statement(templates_copy, context())
    assert str(excinfo.value) == "template sms/text.txt, line 2: undefined variable 'eta_minutes'"


def test_undefined_attribute_is_named_too(templates_copy):
    (templates_copy / "x" / "text.txt").write_text("{{ this.nothing }}")
    with pytest.raises(TemplateProblem, match="template x/text.txt, line 1: undefined variable 'nothing'"):
        render_statement(templates_copy, context())


def test_syntax_error_names_the_template_and_line(templates_copy):
    (templates_copy / "banner" / "text.txt").write_text("ok\n{% if %}")
    with pytest.raises(TemplateProblem, match=r"template banner/text.txt, line 2: syntax error"):
        render_statement(templates_copy, context())


def test_a_new_folder_is_a_new_channel(templates_copy):
    (templates_copy / "pager").mkdir()
    (templates_copy / "pager" / "text.txt").write_text("{{ headline }}")
    assert render_statement(templates_copy, context())["pager"] == {"text": "Some customers cannot log in"}


STATUSES = ("investigating", "identified", "monitoring", "resolved")
CHANNEL_FIELDS = [(channel, field) for channel, fields in
                  {"banner": ("text", "severity"), "status_page": ("body",), "x": ("text",),
                   "email": ("subject", "body_text", "body_html"), "sms": ("text",),
                   "ivr": ("script", "twiml", "ssml")}.items() for field in fields]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(("channel", "field"), CHANNEL_FIELDS)
def test_every_channel_renders_every_status_within_its_limits(channel, field, status):
    rendered = render_statement(TEMPLATES, context(status=status))
    assert rendered[channel][field].strip()
    checks = [c for c in check_limits(rendered, Settings(_env_file=None)) if c.channel == channel]
    assert all(c.ok for c in checks), [c.describe() for c in checks if not c.ok]


# Where each channel says first that it is resolved (a customer reads only one of them), and the
# resolution line it says instead of the outage's headline.
RESOLVED_WORDS = {
    ("banner", "text"): "Resolved: It works normally again.", ("status_page", "body"): "It works normally again.",
    ("x", "text"): "Resolved (14:00 UTC): It works normally again.",
    ("email", "subject"): "[Resolved] It works normally again.",
    ("email", "body_text"): "Resolved: It works normally again.",
    ("email", "body_html"): "Resolved: It works normally again.",
    ("sms", "text"): "Example Co - Resolved: It works normally again.",
    ("sms", "followup"): "you asked us to tell you when this was fixed. It works normally again.",
    ("ivr", "script"): "It works normally again.\nThe problem with Login has been fixed.",
    ("ivr", "callback"): "It works normally again.\nThe problem with Login has been fixed.",
    ("ivr", "twiml"): "The problem with Login has been fixed.",
    ("ivr", "ssml"): "The problem with Login has been fixed.",
    ("webhook", "body"): '"resolution": "It works normally again."',
    ("reply", "variant1"): "Fixed now: It works normally again.", ("reply", "variant2"): "It is fixed",
    ("reply", "variant3"): "Resolved: It works normally again.",
    ("agent", "summary"): "Resolved: It works normally again.", ("agent", "say"): "It works normally again. Affected:",
    ("agent", "next_update"): "It is over: no further update is planned.",
    ("stakeholder", "subject"): "Internal: It works normally again.",
    ("stakeholder", "body_text"): "Internal update, not for customers: Resolved: It works normally again.",
    ("stakeholder", "body_html"): "Internal update, not for customers: Resolved: It works normally again.",
    ("stakeholder", "sms"): "Example Co, internal: Resolved: It works normally again.",
    ("slack", "text"): "Resolved: It works normally again.", ("slack", "blocks"): "Resolved: It works normally again.",
    ("teams", "card"): "Resolved: It works normally again.",
}
# Agent notes that say the same whatever the status (the author's answers, the standing rules, where to look).
SAME_WHEN_RESOLVED = {("agent", "answers"), ("agent", "avoid"), ("agent", "workaround")}


@pytest.mark.parametrize(("channel", "field"), sorted(RESOLVED_WORDS))
def test_resolved_statement_says_it_is_resolved_on_every_channel(channel, field):
    rendered = render_statement(TEMPLATES, context(status="resolved"))
    assert RESOLVED_WORDS[channel, field] in rendered[channel][field]
    unresolved = render_statement(TEMPLATES, context(status="monitoring"))
    assert RESOLVED_WORDS[channel, field] not in unresolved[channel].get(field, "")


def test_every_customer_facing_field_is_covered_by_the_resolved_check():
    rendered = render_statement(TEMPLATES, context(status="resolved"))
    fields = {(channel, field) for channel, names in rendered.items() for field in names}
    assert fields - {("banner", "severity")} - SAME_WHEN_RESOLVED == set(RESOLVED_WORDS)


@pytest.mark.parametrize(("channel", "field"), [("sms", "text"), ("x", "text"), ("email", "subject"),
                                                ("email", "body_text"), ("email", "body_html"), ("banner", "text"),
                                                ("status_page", "body"), ("ivr", "script"), ("sms", "followup")])
def test_a_resolved_notice_never_presents_the_outage_as_ongoing(channel, field):
    # The issue: "Resolved: Some customers cannot log in." reads as if it were still happening.
    text = render_statement(TEMPLATES, context(status="resolved"))[channel][field]
    assert "cannot log in" not in text
    assert "Next update" not in text and "What you can do now" not in text


def test_resolved_sms_says_what_is_fixed_what_was_affected_and_for_how_long():
    text = render_statement(TEMPLATES, context(status="resolved"))["sms"]["text"]
    assert text == ("Example Co - Resolved: It works normally again. Affected: Login, 13:22 - 14:00 UTC (38 minutes). "
                    "https://status.example.com")


def test_a_resolved_span_lasts_as_long_as_its_times_say():
    # Shown to the minute, 13:22:50 – 14:00:10 reads 13:22 – 14:00: 38 minutes, though 37 min 20 s went by.
    span = (datetime(2026, 11, 23, 13, 22, 50, tzinfo=UTC), datetime(2026, 11, 23, 14, 0, 10, tzinfo=UTC))
    text = render_statement(TEMPLATES, context(status="resolved", affected_span=span))["sms"]["text"]
    assert "Affected: Login, 13:22 - 14:00 UTC (38 minutes)." in text


def test_the_resolved_banner_is_green_and_says_it_is_over():
    rendered = render_statement(TEMPLATES, context(status="resolved"))
    assert rendered["banner"]["severity"] == "none"
    assert rendered["banner"]["text"].startswith("Resolved: It works normally again. Affected: Login, "
                                                 "13:22 – 14:00 UTC")


def test_resolved_email_says_what_was_done_and_from_when_to_when():
    body = render_statement(TEMPLATES, context(status="resolved", body="We rolled back the release."))["email"]
    assert body["body_text"].startswith("Resolved: It works normally again.\n\nAffected: Login, Mon, Nov 23, "
                                        "13:22 – 14:00 UTC (38 minutes).\n\nWe rolled back the release.")


def test_resolved_statement_offers_no_workaround_for_a_fixed_problem():
    rendered = render_statement(TEMPLATES, context(status="resolved", workaround="Use the mobile app."))
    for channel, fields in rendered.items():
        for name, text in fields.items():
            assert "mobile app" not in text, f"{channel}.{name}"


@pytest.mark.parametrize(("status", "words"), [
    ("investigating", "We are aware of the problem and are investigating."), ("identified", "found the cause"),
    ("monitoring", "A fix is in place"), ("resolved", "has been fixed"),
])
def test_ivr_tells_the_caller_where_things_stand(status, words):
    assert words in render_statement(TEMPLATES, context(status=status))["ivr"]["script"]


def test_ivr_names_every_fixed_component_as_a_voice_reads_a_list():
    script = render_statement(TEMPLATES, context(status="resolved", components=["Login", "API", "Billing"]))
    assert "The problem with Login, API, and Billing has been fixed." in script["ivr"]["script"]
    script = render_statement(TEMPLATES, context(status="resolved", components=[]))
    assert "The problem has been fixed." in script["ivr"]["script"]


MAINTENANCE_WINDOW = (datetime(2026, 11, 29, 7, 0, tzinfo=UTC), datetime(2026, 11, 29, 9, 0, tzinfo=UTC))


def maintenance(status: str, **overrides) -> dict:
    return context(**{"kind": "maintenance", "status": status, "headline": "Database upgrade", "workaround": "",
                      "body": "Logins may fail for up to 10 minutes.", "next_update": None,
                      "tz": "America/New_York", "window": MAINTENANCE_WINDOW, **overrides})


def test_a_maintenance_sms_names_its_window_with_the_day_and_stays_gsm7():
    text = render_statement(TEMPLATES, maintenance("scheduled"))["sms"]["text"]
    assert text == ("Example Co - Scheduled maintenance: Database upgrade, Sun, Nov 29, 02:00 - 04:00 EST. "
                    "Logins may fail for up to 10 minutes. https://status.example.com")
    assert sms_encoding(text) == ("GSM-7", None)


@pytest.mark.parametrize(("channel", "field", "window"), [
    ("x", "text", "Sun, Nov 29, 02:00 – 04:00 EST"), ("banner", "text", "Sun, Nov 29, 02:00 – 04:00 EST"),
    ("email", "body_text", "When: Sun, Nov 29, 02:00 – 04:00 EST (07:00 – 09:00 UTC)"),
    ("email", "body_html", "Sun, Nov 29, 02:00 – 04:00 EST (07:00 – 09:00 UTC)"),
    ("status_page", "body", "Sun, Nov 29, 02:00 – 04:00 EST (07:00 – 09:00 UTC)"),
    ("email", "subject", "[Scheduled maintenance] Database upgrade, Sun, Nov 29"),
    ("ivr", "script", "It is planned for Sunday, November 29, from 2:00 AM EST to 4:00 AM EST."),
])
def test_every_channel_says_when_a_maintenance_happens(channel, field, window):
    assert window in render_statement(TEMPLATES, maintenance("scheduled"))[channel][field]


def test_no_maintenance_notice_doubles_its_words_or_says_an_incident_is_investigated():
    for status in ("scheduled", "in_progress", "completed"):
        rendered = render_statement(TEMPLATES, maintenance(status))
        for channel, fields in rendered.items():
            for name, text in fields.items():
                assert "maintenance: Scheduled maintenance" not in text and "] Scheduled" not in text, (channel, name)
                assert "investigating" not in text.lower(), (channel, name)


def test_a_maintenance_in_progress_says_until_when_by_its_date_not_tomorrow():
    # Its words are approved days ahead of the window: "tomorrow" would be wrong when it goes out.
    day_before = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    rendered = render_statement(TEMPLATES, maintenance("in_progress", now=day_before))
    assert "until Sun, Nov 29, 04:00 EST" in rendered["sms"]["text"]
    assert "tomorrow" not in rendered["ivr"]["script"] and "Sunday, November 29, 4:00 AM EST" in rendered["ivr"][
        "script"]


def test_disaster_mode_says_the_contact_centre_cannot_take_calls_and_where_to_go():
    rendered = render_statement(TEMPLATES, context(contact_centre_closed=True, next_update=None))
    assert rendered["ivr"]["script"].startswith("Thank you for calling Example Co. We are unable to take your call "
                                                "at this time.")
    assert "We cannot take phone calls right now." in rendered["sms"]["text"]
    assert ("Follow updates at https://status.example.com, get them by text message at "
            "https://status.example.com/subscribe, and find help at https://help.example.com.") in rendered[
        "email"]["body_text"]
    ordinary = render_statement(TEMPLATES, context())
    assert "cannot take" not in ordinary["sms"]["text"] and "unable to take" not in ordinary["ivr"]["script"]


def test_a_statement_renders_in_spanish_from_the_catalog_with_spanish_dates():
    rendered = render_statement(TEMPLATES, maintenance("scheduled", headline="Actualización de la base de datos"),
                                locale="es")
    assert rendered["sms"]["text"].startswith("Example Co - Mantenimiento programado: Actualización de la base de "
                                              "datos, dom, 29 nov, 2:00-4:00 EST.")
    assert 'lang="es"' in rendered["email"]["body_html"]


NEW_YORK = ZoneInfo("America/New_York")


def test_times_show_the_zone_abbreviation_of_that_instant_not_a_fixed_label():
    # A label of "ET" used to print "20:30 ET" for what is 15:30 in New York.
    november = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    rendered = render_statement(TEMPLATES, context(next_update=november, tz=NEW_YORK,
                                                   now=datetime(2026, 11, 23, 19, 0, tzinfo=UTC)))
    assert "Next update by 15:30 EST." in rendered["sms"]["text"]
    assert "Next update by 15:30 EST." in rendered["banner"]["text"]
    assert "Next update by 15:30 EST." in rendered["status_page"]["body"]
    assert "Next update by 15:30 EST." in rendered["x"]["text"]
    assert "next update by 15:30 EST," in rendered["email"]["body_text"]
    assert "next update by 15:30 EST," in rendered["email"]["body_html"]
    assert "share more by 3:30 PM EST." in rendered["ivr"]["script"]


def test_a_summer_time_says_edt():
    july = datetime(2026, 7, 14, 20, 30, tzinfo=UTC)
    rendered = render_statement(TEMPLATES, context(next_update=july, tz="America/New_York",
                                                   now=datetime(2026, 7, 14, 19, 0, tzinfo=UTC)))
    assert "Next update by 16:30 EDT." in rendered["sms"]["text"]
    assert "share more by 4:30 PM EDT." in rendered["ivr"]["script"]


def test_a_next_update_after_local_midnight_says_tomorrow():
    # 04:30 UTC on the 24th is 23:30 EST on the 23rd (today), 05:30 UTC is 00:30 EST tomorrow.
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 EST on the 23rd
    today = render_statement(TEMPLATES, context(next_update=datetime(2026, 11, 24, 4, 30, tzinfo=UTC),
                                                tz=NEW_YORK, now=now))
    tomorrow = render_statement(TEMPLATES, context(next_update=datetime(2026, 11, 24, 5, 30, tzinfo=UTC),
                                                   tz=NEW_YORK, now=now))
    assert "Next update by 23:30 EST." in today["sms"]["text"]
    assert "Next update by tomorrow at 00:30 EST." in tomorrow["sms"]["text"]
    assert "share more by tomorrow at 12:30 AM EST." in tomorrow["ivr"]["script"]


def test_a_template_using_clock_without_now_names_the_missing_variable():
    ctx = context()
    del ctx["now"]
    with pytest.raises(TemplateProblem, match=r"template banner/text.txt, line \d+: undefined variable 'now'"):
        render_statement(TEMPLATES, ctx, channels=["banner"])


def test_a_reply_while_monitoring_says_a_fix_is_in_place_whatever_the_headline_says():
    # "We know: Logins work again" and "We are on it: Logins work again" read as if nothing were done yet.
    for headline in ("Logins work again", "Some customers cannot log in"):
        reply = render_statement(TEMPLATES, context(status="monitoring", headline=headline))["reply"]
        assert reply["variant2"].startswith(f"Thanks for telling us. {headline}. A fix is in place and we are "
                                            "watching it."), reply["variant2"]
        assert reply["variant3"].startswith(f"{headline}. A fix is in place and we are making sure it holds.")
    still = render_statement(TEMPLATES, context(status="identified"))["reply"]
    assert still["variant2"].startswith("Thanks for telling us. We know: Some customers cannot log in.")
    assert still["variant3"].startswith("We are on it: Some customers cannot log in.")
