import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.channels import check_limits
from broadcaster.config import PROJECT_ROOT, Settings
from broadcaster.render import TemplateProblem, render_statement
from broadcaster.render.environment import channel_templates, environment

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
    return {**base, **overrides}


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
    assert set(rendered) == {"banner", "status_page", "x", "email", "sms", "ivr", "webhook", "reply"}
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
    assert "<Say>" in rendered["ivr"]["twiml"] and "<speak>" in rendered["ivr"]["ssml"]


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


# Where each channel says the incident is resolved (a customer reads only one of them).
RESOLVED_WORDS = {
    ("banner", "text"): "Resolved: ", ("status_page", "body"): "<strong>Resolved</strong>",
    ("x", "text"): "Resolved (", ("email", "subject"): "[Resolved] ",
    ("email", "body_text"): "This issue is resolved.", ("email", "body_html"): "This issue is resolved.",
    ("sms", "text"): "Example Co - Resolved: ", ("ivr", "script"): "The problem with Login has been fixed.",
    ("ivr", "twiml"): "The problem with Login has been fixed.",
    ("ivr", "ssml"): "The problem with Login has been fixed.",
    ("webhook", "body"): '"status": "resolved"',
    ("reply", "variant1"): "Resolved now: ", ("reply", "variant2"): "Resolved, and thanks",
    ("reply", "variant3"): "Resolved: ",
}


@pytest.mark.parametrize(("channel", "field"), sorted(RESOLVED_WORDS))
def test_resolved_statement_says_it_is_resolved_on_every_channel(channel, field):
    rendered = render_statement(TEMPLATES, context(status="resolved"))
    assert RESOLVED_WORDS[channel, field] in rendered[channel][field]
    unresolved = render_statement(TEMPLATES, context(status="monitoring"))
    assert RESOLVED_WORDS[channel, field] not in unresolved[channel][field]


def test_every_customer_facing_field_is_covered_by_the_resolved_check():
    rendered = render_statement(TEMPLATES, context(status="resolved"))
    fields = {(channel, field) for channel, names in rendered.items() for field in names}
    assert fields - {("banner", "severity")} == set(RESOLVED_WORDS)


def test_resolved_sms_says_it_is_resolved():
    text = render_statement(TEMPLATES, context(status="resolved"))["sms"]["text"]
    assert text == "Example Co - Resolved: Some customers cannot log in. https://status.example.com"


def test_resolved_statement_offers_no_workaround_for_a_fixed_problem():
    rendered = render_statement(TEMPLATES, context(status="resolved", workaround="Use the mobile app."))
    for channel, fields in rendered.items():
        for name, text in fields.items():
            assert "mobile app" not in text, f"{channel}.{name}"


@pytest.mark.parametrize(("status", "words"), [
    ("investigating", "our team is investigating"), ("identified", "found the cause"),
    ("monitoring", "put a fix in place"), ("resolved", "has been fixed"),
])
def test_ivr_tells_the_caller_where_things_stand(status, words):
    assert words in render_statement(TEMPLATES, context(status=status))["ivr"]["script"]


def test_ivr_names_every_fixed_component_as_a_voice_reads_a_list():
    script = render_statement(TEMPLATES, context(status="resolved", components=["Login", "API", "Billing"]))
    assert "The problem with Login, API and Billing has been fixed." in script["ivr"]["script"]
    script = render_statement(TEMPLATES, context(status="resolved", components=[]))
    assert "The problem has been fixed." in script["ivr"]["script"]


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
    assert "Next update by tomorrow 00:30 EST." in tomorrow["sms"]["text"]
    assert "share more by 12:30 AM EST tomorrow." in tomorrow["ivr"]["script"]


def test_a_template_using_clock_without_now_names_the_missing_variable():
    ctx = context()
    del ctx["now"]
    with pytest.raises(TemplateProblem, match=r"template banner/text.txt, line 1: undefined variable 'now'"):
        render_statement(TEMPLATES, ctx)
