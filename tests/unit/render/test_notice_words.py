"""The phrases every notice shares (templates/_words/notice.txt), said once per statement and language
and shared by every channel's templates as `words` (render/notice_words.py); templates read once."""

import shutil

import pytest
from jinja2 import Template

from broadcaster.render import TemplateProblem, render_statement
from broadcaster.render.environment import reload_templates
from broadcaster.render.notice_words import NOTICE_WORDS
from tests.unit.render.test_templates import TEMPLATES, context


@pytest.fixture
def runs_of_the_words_template(monkeypatch):
    runs = []
    make_module = Template.make_module

    def counted(self, *args, **kwargs):
        if self.name == NOTICE_WORDS:
            runs.append(self.name)
        return make_module(self, *args, **kwargs)
    monkeypatch.setattr(Template, "make_module", counted)
    return runs


def test_the_words_template_runs_once_for_every_channel_of_a_statement(runs_of_the_words_template):
    rendered = render_statement(TEMPLATES, context(), locale="es")
    assert len(runs_of_the_words_template) == 1  # 17 templates say its phrases; it ran 17 times before
    assert rendered["x"]["text"].startswith("Investigando")
    assert rendered["banner"]["text"].startswith("Investigando")


def test_an_sms_says_a_span_with_a_hyphen_where_the_other_channels_say_an_en_dash(runs_of_the_words_template):
    rendered = render_statement(TEMPLATES, context(kind="maintenance", status="scheduled"))
    assert "02:00 – 04:00" not in rendered["sms"]["text"] and "– " not in rendered["sms"]["text"]
    assert " - " in rendered["sms"]["text"].split("Scheduled maintenance:")[1]
    assert "\u2013" in rendered["banner"]["text"]
    assert len(runs_of_the_words_template) == 2  # once more for the SMS: its span differs


def test_a_phrase_the_words_template_does_not_have_is_an_error_naming_it(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    (templates / "sms" / "text.txt").write_text("{{ company }}\n{{ words.titel() }}\n")
    try:
        with pytest.raises(TemplateProblem, match="template sms/text.txt, line 2: undefined variable 'titel'"):
            render_statement(templates, context())
    finally:
        reload_templates()


def test_an_edited_template_is_read_again_after_reload_templates(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    try:
        assert render_statement(templates, context(), channels=["banner"])["banner"]["severity"] == "major"
        (templates / "banner" / "severity.txt").write_text("edited")
        # Read once per process: no file is checked on each render.
        assert render_statement(templates, context(), channels=["banner"])["banner"]["severity"] == "major"
        reload_templates()
        assert render_statement(templates, context(), channels=["banner"])["banner"]["severity"] == "edited"
    finally:
        reload_templates()
