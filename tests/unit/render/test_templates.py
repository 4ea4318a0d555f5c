import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broadcaster.config import PROJECT_ROOT
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
        "ivr_support_hint": "our website", "tz": "UTC",
    }
    return {**base, **overrides}


def test_every_channel_of_the_design_has_a_rendition():
    rendered = render_statement(TEMPLATES, context())
    assert set(rendered) == {"banner", "status_page", "x", "email", "sms", "ivr", "webhook"}
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
    assert "Next update" not in rendered["sms"]["text"]
    assert "now resolved" in rendered["ivr"]["script"]


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
