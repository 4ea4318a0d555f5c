"""The catalogs and the wording gallery stay in step with the templates: every fixed phrase a
template says is translated in every shipped catalog (with the same placeholders), and the gallery
in docs/wording/ is what the templates say now, or this fails and says what to run."""

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from broadcaster.config import PROJECT_ROOT, Settings
from broadcaster.incidents.gallery import render_gallery, stale_files
from broadcaster.render.environment import channel_templates, environment
from broadcaster.render.languages import translations

TEMPLATES = PROJECT_ROOT / "templates"
GALLERY = PROJECT_ROOT / "docs" / "wording"
OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true", "trim_blocks": "true", "lstrip_blocks": "true",
           "newstyle_gettext": "true"}
SHIPPED = sorted(p.name for p in (TEMPLATES / "locale").iterdir() if (p / "LC_MESSAGES" / "messages.po").is_file())


def phrases() -> set[str]:
    """Every message the templates say, as pybabel extracts it (templates/locale/babel.cfg)."""
    found = extract_from_dir(str(TEMPLATES), method_map=[(f"**.{ext}", "jinja2") for ext in ("txt", "html", "xml",
                                                                                            "json")],
                             options_map={f"**.{ext}": OPTIONS for ext in ("txt", "html", "xml", "json")},
                             directory_filter=lambda path: not Path(path).name.startswith("."))
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_english_spanish_and_japanese_ship():
    assert SHIPPED == ["en", "es", "ja"]


@pytest.mark.parametrize("locale", [tag for tag in SHIPPED if tag != "en"])
def test_every_phrase_is_translated_with_the_same_placeholders(locale):
    with (TEMPLATES / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    said = phrases()
    missing = sorted(m for m in said if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"{locale}: untranslated (pybabel update, then translate): {missing}"
    for message in said:
        placeholders = sorted(re.findall(r"%\(\w+\)s", message))
        assert sorted(re.findall(r"%\(\w+\)s", catalog.get(message).string)) == placeholders, (locale, message)


def test_the_english_catalog_lists_every_phrase():
    with (TEMPLATES / "locale" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        listed = {m.id for m in read_po(source) if m.id}
    assert phrases() <= listed


def test_the_wording_gallery_is_current():
    stale = stale_files(Settings(_env_file=None), GALLERY)
    assert stale == [], f"docs/wording/ is stale: run `broadcaster wording` and review the diff ({stale[:5]})"


@pytest.fixture
def templates_copy(tmp_path) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    yield copy
    environment.cache_clear()
    channel_templates.cache_clear()
    translations.cache_clear()


def test_a_template_changed_without_regenerating_the_gallery_is_caught(templates_copy, tmp_path):
    settings = Settings(_env_file=None, templates_dir=templates_copy)
    folder = tmp_path / "gallery"
    for relative, text in render_gallery(settings).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    assert stale_files(settings, folder) == []
    sms = templates_copy / "sms" / "text.txt"
    sms.write_text(sms.read_text().replace("{{ status_url }}", "More: {{ status_url }}"))
    environment.cache_clear()
    assert "en/incident-investigating/sms.text.txt" in stale_files(settings, folder)
    (folder / "en" / "old.txt").write_text("a file the gallery no longer has\n")
    assert "en/old.txt" in stale_files(settings, folder)


def test_an_override_catalog_rewords_a_phrase_for_one_installation(templates_copy):
    overrides = templates_copy / "locale" / "en" / "LC_MESSAGES" / "overrides.po"
    overrides.write_text('msgid ""\nmsgstr ""\n"Language: en\\n"\n\nmsgid "Next update by %(time)s."\n'
                         'msgstr "We will update you by %(time)s."\n', encoding="utf-8")
    from broadcaster.render import render_statement
    from tests.unit.render.test_templates import context

    assert "We will update you by 14:30 UTC." in render_statement(templates_copy, context())["sms"]["text"]
