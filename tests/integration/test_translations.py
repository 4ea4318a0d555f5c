"""Statements in several languages, approved together: every language's renditions rendered, checked
on their own and stored at submit under the one content hash an approver approves; the use cases on a
real database (SQLite and PostgreSQL), the CLI with a YAML `translations:` map and the API."""

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from broadcaster.approvals import decisions
from broadcaster.domain.errors import IllegalTransition, InvalidInput, LimitExceeded, NotAllowed
from broadcaster.domain.hashing import sha256_of
from broadcaster.incidents import drafting, publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import auth
from broadcaster.store.content import hashed_fields, stored_content_hash, stored_renditions
from broadcaster.store.db import transaction
from broadcaster.store.models import Rendition, Statement
from broadcaster.web.app import create_app
from tests.conftest import actor, add_user, make_settings

SPANISH = {"headline": "Algunos clientes no pueden iniciar sesión", "body": "Falla uno de cada cinco inicios.",
           "workaround": "Use la aplicación móvil."}
# Eight-odd times the words of one UCS-2 segment: far over three segments, however the chrome around it reads.
JAPANESE_TOO_LONG = {"headline": "一部のお客様がログインできない状態が続いております" * 6,
                     "body": "ログインの約二割が失敗しています。", "workaround": "モバイルアプリをご利用ください。"}


@pytest.fixture
def multilingual(database_url):
    settings = make_settings(database_url, locales=["es", "ja"])
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    return settings


def draft(settings, translations=None, **fields) -> dict:
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    given = {"status": "investigating", "headline": "Some customers cannot log in",
             "body": "One login in five fails.", "workaround": "Use the mobile app.", "next_update": "30m", **fields}
    return statements.draft(settings, alice, incident["id"], StatementInput(**given, translations=translations))


def stored(settings, statement_id: int) -> dict[str, dict[str, dict]]:
    with transaction(settings.database_url) as s:
        rows = s.execute(select(Rendition.locale, Rendition.channel, Rendition.fields)
                         .where(Rendition.statement_id == statement_id)).all()
    found: dict[str, dict[str, dict]] = {}
    for locale, channel, fields in rows:
        found.setdefault(locale, {})[channel] = fields
    return found


def test_every_language_is_rendered_stored_and_hashed_at_submit(multilingual):
    statement = draft(multilingual, {"es": SPANISH})
    submitted = statements.submit(multilingual, actor(multilingual, "alice"), statement["id"])
    renditions = stored(multilingual, statement["id"])
    assert set(renditions) == {"", "es"}  # the statement's own language, and each translation
    assert renditions["es"]["sms"]["text"].startswith("Example Co - Investigando: Algunos clientes no pueden")
    assert "Próxima actualización:" in renditions["es"]["sms"]["text"]
    assert renditions[""]["sms"]["text"].startswith("Example Co - Investigating: Some customers cannot log in.")
    with transaction(multilingual.database_url) as s:
        row = s.get(Statement, statement["id"])
        assert stored_content_hash(row) == submitted["content_hash"]
        assert [r.locale for r in row.renditions] == [""] * len(row.renditions)  # what a send picks by channel


def test_editing_the_spanish_headline_after_approval_voids_the_approval(multilingual):
    alice, bob = actor(multilingual, "alice"), actor(multilingual, "bob")
    statement = draft(multilingual, {"es": SPANISH})
    submitted = statements.submit(multilingual, alice, statement["id"])
    decisions.approve(multilingual, bob, statement["id"], submitted["content_hash"])
    edited = statements.edit(multilingual, alice, statement["id"], StatementInput(
        translations={"es": {"headline": "Nadie puede iniciar sesión"}}))
    assert edited["id"] != statement["id"] and edited["voided"] == [
        {"id": statement["id"], "version": 1, "was": "approved"}]
    assert edited["translations"]["es"] == {**SPANISH, "resolution": "", "headline": "Nadie puede iniciar sesión"}
    with pytest.raises(IllegalTransition, match="withdrawn"):  # the approved version can never go out now
        publishing.publish(multilingual, alice, statement["id"])
    resubmitted = statements.submit(multilingual, alice, edited["id"])
    assert resubmitted["content_hash"] != submitted["content_hash"]
    with pytest.raises(NotAllowed, match="the approval is for content"):  # the old hash approves nothing now
        decisions.approve(multilingual, bob, edited["id"], submitted["content_hash"])


def test_a_spanish_rendition_rewritten_in_the_database_is_caught_by_the_hash(multilingual):
    statement = draft(multilingual, {"es": SPANISH})
    submitted = statements.submit(multilingual, actor(multilingual, "alice"), statement["id"])
    with transaction(multilingual.database_url) as s:
        s.execute(update(Rendition).where(Rendition.statement_id == statement["id"], Rendition.locale == "es",
                                          Rendition.channel == "sms").values(fields={"text": "Todo bien."}))
    with transaction(multilingual.database_url) as s:
        assert stored_content_hash(s.get(Statement, statement["id"])) != submitted["content_hash"]


def test_a_statement_in_one_language_hashes_as_before_translations_existed(multilingual):
    """Approvals made before this change cover {statement, renditions} with the old fields only: a
    statement without translations, resolution or disaster mode hashes exactly so."""
    statement = draft(multilingual)
    submitted = statements.submit(multilingual, actor(multilingual, "alice"), statement["id"])
    with transaction(multilingual.database_url) as s:
        row = s.get(Statement, statement["id"])
        fields = hashed_fields(row)
        assert not {"translations", "language", "resolution", "contact_centre_closed"} & set(fields)
        assert submitted["content_hash"] == sha256_of({"statement": fields, "renditions": stored_renditions(row)})


def test_a_japanese_translation_over_the_sms_budget_is_refused_naming_the_language_and_the_limit(multilingual):
    statement = draft(multilingual, {"ja": JAPANESE_TOO_LONG})
    preview = statements.preview(multilingual, statement["id"])
    sms = preview["languages"]["ja"]["channels"]["sms"]
    segments = next(limit for limit in sms["limits"] if limit["name"] == "segments")
    assert (segments["locale"], segments["ok"]) == ("ja", False) and "UCS-2" in segments["detail"]
    assert preview["channels"]["sms"]["ok"]  # the English SMS is fine: each language is checked on its own
    with pytest.raises(LimitExceeded) as refused:
        statements.submit(multilingual, actor(multilingual, "alice"), statement["id"])
    message = str(refused.value)
    assert "sms (ja): segments is" in message and "segments, limit 3, over by" in message
    assert "sms: " not in message  # nothing about the English
    assert stored(multilingual, statement["id"]) == {}  # nothing stored, still a draft
    assert statements.get_statement(multilingual, statement["id"])["state"] == "draft"


def test_a_missing_translation_falls_back_and_says_so_unless_the_language_is_required(database_url):
    settings = make_settings(database_url, locales=["es", "ja"], required_locales=["es"])
    add_user(settings, "alice", ["author"])
    statement = draft(settings, {"ja": {"headline": "ログインできません", "body": "調査中です。",
                                        "workaround": "アプリをご利用ください。"}})
    preview = statements.preview(settings, statement["id"])
    assert preview["languages"]["es"] == {"name": "español", "translated": False, "required": True,
                                          "falls_back_to": "en", "ok": False}
    assert preview["languages"]["ja"]["translated"] is True and not preview["ok"]
    with pytest.raises(InvalidInput, match=r"no es translation, and this installation requires one"):
        statements.submit(settings, actor(settings, "alice"), statement["id"])
    optional = make_settings(database_url, locales=["es", "ja"])
    shown = statements.preview(optional, statement["id"])["languages"]["es"]
    assert (shown["translated"], shown["required"], shown["falls_back_to"], shown["ok"]) == (False, False, "en", True)


@pytest.mark.parametrize(("translations", "problem"), [
    ({"fr": {"headline": "x", "body": "y"}}, "translations.fr: fr is not one of this installation's languages"),
    ({"en": {"headline": "x", "body": "y"}}, "translations.en: en is the statement's own language"),
    ({"klingon!": {"headline": "x"}}, "translations.klingon!: 'klingon!' is not a language tag"),
    ({"es": {"headline": "Hola", "body": "Cuerpo"}}, "translations.es.workaround: the statement has a workaround"),
    ({"es": {"headline": "Hola", "workaround": "Use la app."}}, "translations.es.body: the statement has a body"),
])
def test_a_translation_that_does_not_fit_the_statement_is_a_clear_error(multilingual, translations, problem):
    with pytest.raises(InvalidInput, match=problem.replace("!", "\\!")):
        draft(multilingual, translations)


def test_a_resolved_statement_needs_its_resolution_in_every_language(multilingual):
    alice = actor(multilingual, "alice")
    first = draft(multilingual, {"es": SPANISH})
    with pytest.raises(InvalidInput, match="translations.es.resolution: the statement has a resolution"):
        statements.draft(multilingual, alice, first["incident_id"], StatementInput(
            status="resolved", resolution="Logins work again.", workaround=""))
    resolved = statements.draft(multilingual, alice, first["incident_id"], StatementInput(
        status="resolved", resolution="Logins work again.", workaround="",
        translations={"es": {"resolution": "El inicio de sesión funciona de nuevo."}}))
    assert resolved["translations"]["es"]["workaround"] == ""  # cleared in English: cleared in every language
    es = statements.preview(multilingual, resolved["id"])["languages"]["es"]["channels"]
    assert es["sms"]["text"].startswith("Example Co - Resuelto: El inicio de sesión funciona de nuevo. Servicios")
    assert "no pueden" not in es["sms"]["text"]  # never the outage's headline once it is over


def test_the_cli_takes_translations_from_a_yaml_file(database_url, tmp_path, monkeypatch, capsys):
    from broadcaster.cli import main
    from broadcaster.config import get_settings
    from tests.harness import TEST_SECRET_KEY

    settings = make_settings(database_url, locales=["es"])
    add_user(settings, "alice", ["author"])
    incident = statements.open_incident(settings, actor(settings, "alice"), "Login failures", "major", ["Login"])
    path = tmp_path / "update.yaml"
    path.write_text(yaml.safe_dump({"status": "identified", "headline": "We found the fault", "body": "A bad release.",
                                    "next_update": "45m", "translations": {"es": {
                                        "headline": "Encontramos el fallo", "body": "Una versión defectuosa."}}},
                                   allow_unicode=True), encoding="utf-8")
    for name, value in (("DATABASE_URL", database_url), ("SECRET_KEY", TEST_SECRET_KEY), ("LOCALES", "es"),
                        ("USER", "alice")):
        monkeypatch.setenv(f"BROADCASTER_{name}", value)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()

    def run(*args: str) -> int:
        try:
            main(list(args))
        except SystemExit as exc:
            return exc.code or 0
        return 0

    try:
        assert run("statement", "draft", str(incident["id"]), "--file", str(path)) == 0
        assert run("preview", "1") == 0
        output = capsys.readouterr().out
        assert "es (español)" in output and "Causa identificada: Encontramos el fallo." in output
        path.write_text("translations:\n  es: [not, a, mapping]\n", encoding="utf-8")
        assert run("statement", "edit", "1", "--file", str(path)) == 1
        assert "translations.es: Input should be a valid dictionary" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    assert statements.get_statement(settings, 1)["translations"]["es"]["headline"] == "Encontramos el fallo"


def test_the_api_drafts_and_previews_translations(multilingual):
    token = auth.create_token(multilingual, "alice", "author")["token"]
    incident = statements.open_incident(multilingual, actor(multilingual, "alice"), "Login failures", "major",
                                        ["Login"])
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(multilingual)) as client:
        body = {"status": "investigating", "headline": "Some customers cannot log in", "body": "One in five.",
                "next_update": "30m", "translations": {"es": {"headline": "Algunos clientes no pueden entrar",
                                                              "body": "Uno de cada cinco."}}}
        preview = client.post("/api/v1/preview", json={**body, "incident_id": incident["id"]}, headers=headers)
        assert preview.status_code == 200, preview.text
        assert preview.json()["languages"]["ja"]["translated"] is False
        assert preview.json()["languages"]["es"]["channels"]["x"]["text"].startswith("Investigando (")
        made = client.post(f"/api/v1/incidents/{incident['id']}/statements", json=body, headers=headers)
        assert made.status_code == 201 and made.json()["translations"]["es"]["body"] == "Uno de cada cinco."
        refused = client.post(f"/api/v1/incidents/{incident['id']}/statements", headers=headers, json={
            **body, "translations": {"es": {"headline": "x" * 501, "body": "y"}}})
        assert refused.status_code == 422 and "at most 500 characters" in refused.text


def test_the_editor_preview_of_a_draft_shows_every_language(multilingual):
    statement = draft(multilingual, {"es": SPANISH})
    preview = drafting.preview_draft(multilingual, statement["incident_id"], StatementInput(
        translations={"es": {"headline": "Otra frase"}}), statement["id"])
    assert preview["languages"]["es"]["channels"]["banner"]["text"].startswith("Investigando: Otra frase.")
    assert preview["content_hash"] != statements.preview(multilingual, statement["id"])["content_hash"]
