"""Rendering's shortcuts change no byte: every channel, in every shipped language, for every kind of
notice, renders the same as Jinja's own way does (``Template.render`` of a context with ``this``,
phrases looked up in the catalog at render time, ``words.x()`` and ``tojson`` as Jinja calls them).

The shortcuts (``compiled_phrases.py``, ``environment._render``, ``filters.py``) exist for speed
only; the content hash an approval names covers these bytes, so a shortcut that changed one would
void approvals. The sample has what escaping and formatting could change: HTML, ``%`` and
``%(name)s`` in the author's words, braces, emoji, an en dash, a zone with a daylight time.
"""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from jinja2.compiler import CodeGenerator
from jinja2.filters import do_tojson

from broadcaster.config import PROJECT_ROOT
from broadcaster.render import render_statement
from broadcaster.render.environment import channel_templates, environment, statement_context
from tests.unit.render.contexts import complete

TEMPLATES = PROJECT_ROOT / "templates"
LANGUAGES = ("en", "es", "ja")
NOTICES = [("incident", status) for status in ("investigating", "identified", "monitoring", "resolved")] + [
    ("maintenance", status) for status in ("scheduled", "in_progress", "completed")]
AUTHORS_WORDS = ["100% of <b>logins</b> & \"quotes\" 'too'", "%(time)s %s %% {{ not jinja }}", "🔥 ログイン – done"]


def plain_jinja(locale: str):
    """The language's environment as Jinja has it: no phrase folded in at compile time, no ``said``,
    Jinja's own ``tojson``, templates compiled afresh."""
    env = environment(TEMPLATES, locale).overlay()
    env.code_generator_class = CodeGenerator
    env.catalog_lookup = None
    env.filters = {name: f for name, f in env.filters.items() if name != "said"} | {"tojson": do_tojson}
    env.templates_by_name = {}
    return env


def rendered_by_jinja(env, context: dict) -> dict[str, dict[str, str]]:
    shared = statement_context(env, context)
    renditions = {}
    for channel, names in channel_templates(TEMPLATES).items():
        fields: dict[str, str] = {}
        for name in names:
            text = env.get_template(name).render({**shared, "this": dict(fields)})
            lines = [line.rstrip() for line in text.strip().splitlines()]
            text = "\n".join(lines)
            while "\n\n\n" in text:
                text = text.replace("\n\n\n", "\n\n")
            if text:
                fields[name.split("/")[-1].rsplit(".", 1)[0]] = text
        renditions[channel] = fields
    return renditions


def sample(kind: str, status: str, variant: int) -> dict:
    now = datetime(2026, 3, 8, 6, 40, tzinfo=UTC)  # the night New York moves its clocks
    words = AUTHORS_WORDS[variant]
    return complete({
        "incident_id": 7, "incident_title": f"Login {words}", "version": 1 + variant, "kind": kind, "status": status,
        "impact": "major", "components": ["Login", "API"][: 1 + variant % 2], "headline": f"Sign-in fails {words}",
        "body": f"Since 14:02 a third fail. {words}", "workaround": f"Use the app {words}" if variant != 1 else "",
        "next_update_at": (now + timedelta(minutes=50)).isoformat(),
        "next_update": now + timedelta(minutes=50) if variant != 2 else None,
        "company": "Acme & Co", "status_url": "https://status.example.com", "support_url": "https://help.example.com",
        "ivr_support_hint": "our website", "tz": ["UTC", "America/New_York", "Asia/Tokyo"][variant], "now": now,
        "contact_centre_closed": variant == 1, "do_not_promise": f"a time {words}",
        "agent_answers": [{"question": f"Safe? {words}", "answer": "Yes."}],
        "internal": {"impact": words, "customers_affected": "12%", "owner": "Dana <dana@example.com>",
                     "eta": "15:30" if variant else ""},
    })


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_channel_renders_the_bytes_jinja_renders(locale):
    reference = plain_jinja(locale)
    compared = 0
    for (kind, status), variant in itertools.product(NOTICES, range(len(AUTHORS_WORDS))):
        context = sample(kind, status, variant)
        ours = render_statement(TEMPLATES, context, locale=locale)
        assert ours == rendered_by_jinja(reference, context), (kind, status, variant)
        compared += sum(len(fields) for fields in ours.values())
    assert compared > len(NOTICES) * len(AUTHORS_WORDS) * 25  # every field of every channel, nearly


def test_the_shortcuts_are_taken():
    # Otherwise the comparison above would compare Jinja with itself.
    env = environment(TEMPLATES, "es")
    source = env.loader.get_source(env, "email/body_html.html")[0]
    compiled = env.compile(source, "email/body_html.html", raw=True)
    assert "Lamentamos las molestias." in compiled and "'We are sorry" not in compiled  # the catalog's, inlined
    assert "'said'" in compiled and "'titled'" in compiled  # words.titled() as the filter said
    plain = plain_jinja("es").compile(source, "email/body_html.html", raw=True)
    assert "We are sorry for the disruption." in plain and "'said'" not in plain
