"""Properties of rendering that must hold for any statement an author can write."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from broadcaster.channels import check_limits
from broadcaster.config import PROJECT_ROOT, Settings
from broadcaster.domain.hashing import content_hash
from broadcaster.render import render_statement
from broadcaster.render.environment import MARKUP_SUFFIXES, channel_templates
from tests.unit.render.contexts import complete

TEMPLATES = PROJECT_ROOT / "templates"
NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
STATUSES = ("investigating", "identified", "monitoring", "resolved")
ZONES = ("UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney", "Asia/Dubai")
# (channel, field) of each plain-text and each markup field, as the templates folder defines them.
PLAIN = [(c, Path(n).stem) for c, names in channel_templates(TEMPLATES).items() for n in names
         if n.endswith(".txt")]
DATA = [(c, Path(n).stem) for c, names in channel_templates(TEMPLATES).items() for n in names if n.endswith(".json")]
MARKUP = [(c, Path(n).stem) for c, names in channel_templates(TEMPLATES).items() for n in names
          if n.endswith(MARKUP_SUFFIXES)]
# Plain-text fields that carry the headline (the banner's severity carries only the impact).
# The agent notes' workaround, rules and next update say no headline: the summary and what to say do.
PLAIN_WITH_HEADLINE = [field for field in PLAIN if field not in {("banner", "severity"), ("agent", "avoid"),
                                                                 ("agent", "workaround"), ("agent", "next_update")}]
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")

fast = settings(max_examples=40, deadline=None)

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'-,", min_size=1, max_size=10)
# One line of up to 60 characters: a headline or workaround of ordinary length.
short_line = st.lists(word, min_size=1, max_size=8).map(" ".join).filter(lambda s: len(s) <= 60)
# What an author might type, markup characters included; no line breaks in one-line fields.
typed = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
                min_size=1, max_size=60).filter(lambda s: s.strip() == s and s)
typed_with_markup = st.tuples(typed, st.sampled_from("<>&\"'"), typed).map("".join)


@st.composite
def statements(draw, headline=short_line, body=None, workaround=None):
    """A statement as the templates read it; a resolved one says its own resolution line (drawn like
    the headline) first, instead of the headline."""
    when = NOW + timedelta(minutes=draw(st.integers(min_value=1, max_value=7 * 24 * 60)))
    drawn = {
        "incident_id": 1, "incident_title": "Login failures", "version": draw(st.integers(1, 50)),
        "status": draw(st.sampled_from(STATUSES)), "impact": draw(st.sampled_from(["minor", "major", "critical"])),
        "components": draw(st.lists(st.sampled_from(["Login", "API", "Billing", "Web"]), max_size=3, unique=True)),
        "headline": draw(headline),
        "body": draw(st.text(min_size=1, max_size=500) if body is None else body),
        "workaround": draw(st.one_of(st.just(""), short_line) if workaround is None else workaround),
        "next_update_at": when.isoformat(), "next_update": draw(st.one_of(st.none(), st.just(when))),
        "company": "Example Co", "status_url": "https://status.example.com", "support_url": "https://help.example.com",
        "ivr_support_hint": "our website", "tz": ZoneInfo(draw(st.sampled_from(ZONES))), "now": NOW,
    }
    if drawn["status"] == "resolved":
        drawn["resolution"] = draw(headline)
    return complete(drawn)


def lead(context: dict) -> str:
    """What a statement says first: its resolution once resolved, else its headline."""
    return context["resolution"] if context["notice"] == "resolved" else context["headline"]


@fast
@given(statements())
def test_any_statement_of_ordinary_length_renders_on_every_channel_within_its_limits(context):
    rendered = render_statement(TEMPLATES, context)
    # The follow-ups to callers who asked to hear when it is fixed are said only once it is.
    followups = set() if context["notice"] == "resolved" else {("sms", "followup"), ("ivr", "callback")}
    every_field = set(PLAIN) | set(MARKUP) | set(DATA)
    assert {(c, f) for c, fields in rendered.items() for f in fields} == every_field - followups
    assert all(text.strip() for fields in rendered.values() for text in fields.values())
    broken = [c.describe() for c in check_limits(rendered, Settings(_env_file=None)) if not c.ok]
    assert broken == []


@fast
@given(statements(headline=typed.filter(lambda s: "&" not in s), body=typed.filter(lambda s: "&" not in s),
                  workaround=typed.filter(lambda s: "&" not in s)))
def test_plain_text_fields_never_carry_html_entities(context):
    rendered = render_statement(TEMPLATES, context)
    for channel, field in PLAIN:
        assert "&" not in rendered[channel].get(field, ""), (channel, field, rendered[channel][field])


@fast
@given(statements(headline=typed_with_markup))
def test_plain_text_fields_show_the_headline_as_typed(context):
    rendered = render_statement(TEMPLATES, context)
    for channel, field in PLAIN_WITH_HEADLINE:
        if field in rendered[channel]:
            assert lead(context) in rendered[channel][field], (channel, field)
    for channel, field in DATA:  # JSON documents: valid, and the headline exact once parsed
        if (channel, field) == ("agent", "answers"):  # the author's answers, as a list: no headline
            assert json.loads(rendered[channel][field]) == context.get("agent_answers", [])
            continue
        if (channel, field) in {("slack", "blocks"), ("teams", "card")}:  # chat: the lead exact once parsed
            assert any(lead(context) in text for text in strings_in(json.loads(rendered[channel][field])))
            continue
        assert json.loads(rendered[channel][field])["headline"] == context["headline"], (channel, field)


@fast
@given(statements(headline=typed_with_markup.map(lambda s: "Zq" + s),
                  body=typed_with_markup.map(lambda s: "Zq" + s)))
def test_markup_fields_escape_everything_the_author_typed(context):
    rendered = render_statement(TEMPLATES, context)
    for channel, field in MARKUP:
        text = rendered[channel][field]
        assert str(escape(lead(context))) in text, (channel, field)
        assert lead(context) not in text, (channel, field)  # it holds one of < > & " ', so it differs
    for channel, field in (("status_page", "body"), ("email", "body_html")):
        assert str(escape(context["body"])) in rendered[channel][field]
        assert context["body"] not in rendered[channel][field]


renditions = st.dictionaries(st.sampled_from(["sms", "x", "email", "banner"]),
                             st.dictionaries(st.sampled_from(["text", "subject", "body"]), st.text(max_size=40),
                                             min_size=1), min_size=1)


@fast
@given(renditions, st.data())
def test_content_hash_changes_when_any_rendered_character_changes(rendered, data):
    fields = {"headline": "Some customers cannot log in", "version": 1}
    channel = data.draw(st.sampled_from(sorted(rendered)))
    name = data.draw(st.sampled_from(sorted(rendered[channel])))
    text = rendered[channel][name]
    at = data.draw(st.integers(0, len(text)))
    edit = data.draw(st.sampled_from(["insert", "replace", "delete"]) if text else st.just("insert"))
    if edit == "insert" or at == len(text):
        changed = text[:at] + data.draw(st.characters(codec="utf-8", exclude_categories=("Cs",))) + text[at:]
    elif edit == "replace":
        changed = text[:at] + data.draw(st.characters(codec="utf-8", exclude_categories=("Cs",))
                                        .filter(lambda c: c != text[at])) + text[at + 1:]
    else:
        changed = text[:at] + text[at + 1:]
    altered = {c: {**f, name: changed} if c == channel else f for c, f in rendered.items()}
    assert content_hash(fields, altered) != content_hash(fields, rendered)


@fast
@given(renditions)
def test_content_hash_is_the_same_for_the_same_bytes_in_any_order(rendered):
    fields = {"headline": "Some customers cannot log in", "version": 1}
    reordered = {c: dict(reversed(list(f.items()))) for c, f in reversed(list(rendered.items()))}
    assert content_hash(dict(reversed(list(fields.items()))), reordered) == content_hash(fields, rendered)


@fast
@given(statements())
def test_rendering_the_same_statement_twice_gives_the_same_hash(context):
    assert content_hash({}, render_statement(TEMPLATES, context)) == content_hash({}, render_statement(TEMPLATES,
                                                                                                       dict(context)))


def strings_in(value) -> list[str]:
    """Every string in a decoded JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [text for item in value for text in strings_in(item)] if isinstance(value, list) else []
