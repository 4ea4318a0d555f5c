"""Statement templates: written once per kind of failure, started from in the API and the CLI (the
dashboard's editor: test_dashboard_alerts.py), placeholders filled, never approved by being a template."""

import pytest
import yaml

from broadcaster.incidents import statements
from broadcaster.playbooks import statement_templates as playbooks
from broadcaster.playbooks.statement_templates import TemplateInput
from tests.conftest import actor, add_user
from tests.integration.alert_fixtures import TEMPLATE
from tests.integration.api_fixtures import install
from tests.integration.test_cli import run  # noqa: F401 - the CLI fixture


def test_the_api_adds_a_template_and_starts_a_draft_on_a_new_incident_and_on_an_open_one(settings):
    site = install(settings)
    author = site.as_role("author")
    made = site.client.post("/api/v1/templates", json=TEMPLATE, headers=author)
    assert made.status_code == 201, made.text
    assert made.json()["placeholders"] == ["alert", "components", "next_update", "started_at", "summary"]

    missing = site.client.post(f"/api/v1/templates/{made.json()['id']}/statements", json={}, headers=author)
    assert missing.status_code == 422
    assert missing.json()["detail"].startswith("title: the placeholder {alert} needs a value")

    started = site.client.post(f"/api/v1/templates/{made.json()['id']}/statements", headers=author,
                               json={"values": {"alert": "LoginErrors", "summary": "one login in five fails"}})
    assert started.status_code == 201, started.text
    draft = started.json()
    assert (draft["state"], draft["version"], draft["template"]) == ("draft", 1, "login-down")
    assert draft["headline"] == "Some customers cannot log in to Login"
    assert "(one login in five fails)" in draft["body"] and "within 30 minutes" in draft["body"]
    assert draft["workaround"] == "The mobile app still works."
    incident = site.client.get(f"/api/v1/incidents/{draft['incident_id']}", headers=author).json()
    assert incident["title"] == "Login problems: LoginErrors" and incident["components"] == ["Login"]

    # On the seeded open incident (statement v1 waiting for approval): a new draft version; v1 is void.
    on_open = site.client.post(f"/api/v1/templates/{made.json()['id']}/statements", headers=author,
                               json={"incident_id": site.incident_id, "values": {"alert": "x", "summary": "y"}})
    assert on_open.status_code == 201 and on_open.json()["version"] == 2
    assert on_open.json()["voided"][0]["id"] == site.statement_id
    # Nothing about a template approves: the draft is submitted and approved like any other.
    assert on_open.json()["state"] == "draft"


@pytest.mark.parametrize("change, field", [
    ({"body": "Fails since {when}."}, "body"),
    ({"impact": "catastrophic"}, "impact"),
    ({"next_update": "soon"}, "next_update"),
    ({"next_update": "none"}, "next_update"),  # the words promise {next_update}
    ({"resolution": ""}, "resolution"),
    ({"headline": "x" * 501}, "headline"),
    ({"next_update": "2031-01-01T10:00"}, "next_update"),  # a time, stale at the next use: an interval only
    ({"next_update": "8d"}, "next_update"),
    ({"title": "Login\r\nBcc: everyone"}, "title"),  # a title is a line, as an incident's
    ({"impact": "Major"}, "impact"),  # the schema's word as is (the CLI's YAML file may say Major)
])
def test_a_bad_template_is_refused_naming_the_field(settings, change, field):
    site = install(settings)
    answer = site.client.post("/api/v1/templates", json={**TEMPLATE, **change}, headers=site.as_role("author"))
    assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    assert playbooks.list_templates(settings) == []


def test_names_are_unique_and_a_template_a_rule_uses_cannot_be_removed(settings):
    add_user(settings, "alice", ["author"])
    alice = actor(settings, "alice")
    made = playbooks.add_template(settings, alice, TemplateInput(**TEMPLATE))
    with pytest.raises(Exception, match="exists already"):
        playbooks.add_template(settings, alice, TemplateInput(**TEMPLATE))
    from broadcaster.alerts import rules

    rules.add_rule(settings, alice, rules.RuleInput(name="login", template="login-down"))
    with pytest.raises(Exception, match="used by the alert rule"):
        playbooks.remove_template(settings, alice, made["id"])
    changed = playbooks.change_template(settings, alice, made["id"], TemplateInput(**{**TEMPLATE, "impact": "minor"}))
    assert changed["impact"] == "minor"


def test_the_cli_adds_lists_and_uses_a_template(run, tmp_path, database_url):  # noqa: F811
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", user="root")
    file = tmp_path / "login.yaml"
    file.write_text(yaml.safe_dump(TEMPLATE))
    assert "template #1 login-down" in run("template", "add", "--file", str(file), user="alice").stdout
    assert "login-down" in run("template", "list").stdout
    refused = run("template", "use", "login-down", user="alice", ok=False)
    assert refused.returncode == 1 and "{alert} needs a value" in refused.stderr
    used = run("template", "use", "login-down", "--value", "alert=LoginErrors", "--value", "summary=1 in 5 fail",
               user="alice")
    assert "statement 1: incident 1 v1 (draft, from template login-down)" in used.stdout
    from tests.conftest import make_settings

    (st,) = statements.list_statements(make_settings(database_url))
    assert st["headline"] == "Some customers cannot log in to Login" and "(1 in 5 fail)" in st["body"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**TEMPLATE, "name": "other", "body": "Since {when}"}))
    refused = run("template", "add", "--file", str(bad), user="alice", ok=False)
    assert refused.returncode == 1 and "unknown placeholder {when}" in refused.stderr


def test_a_template_in_two_languages_drafts_both_each_filled_in_its_own(database_url):
    from tests.conftest import make_settings

    settings = make_settings(database_url, locales=["es"])
    add_user(settings, "alice", ["author"])
    alice = actor(settings, "alice")
    spanish = {"headline": "Algunos clientes no pueden iniciar sesión en {components}",
               "body": "Desde las {started_at}, fallan los inicios de sesión ({summary}). Próxima actualización en "
                       "{next_update}.",
               "workaround": "La aplicación móvil funciona.", "resolution": "{components} funciona con normalidad.",
               "resolved_body": "Desde las {started_at}, fallaron algunos inicios de sesión. Ya está resuelto."}
    made = playbooks.add_template(settings, alice, TemplateInput(**{**TEMPLATE, "components": ["Login", "API"],
                                                                    "translations": {"ES": spanish}}))
    assert list(made["translations"]) == ["es"]
    draft = playbooks.start_statement(settings, alice, made["id"], values={"alert": "LoginErrors", "summary": "5xx"})
    es = draft["translations"]["es"]
    assert es["headline"] == "Algunos clientes no pueden iniciar sesión en Login y API"  # listed in Spanish
    assert es["body"].endswith("Próxima actualización en 30 minutos.") and "(5xx)" in es["body"]
    assert draft["headline"] == "Some customers cannot log in to Login and API"

    for words, says in (({**spanish, "workaround": ""}, "workaround: give it exactly"),
                        ({**spanish, "body": "{cuando}"}, "unknown placeholder {cuando}")):
        with pytest.raises(Exception, match=says):
            playbooks.add_template(settings, alice, TemplateInput(**{**TEMPLATE, "name": "x",
                                                                     "translations": {"es": words}}))
    with pytest.raises(Exception, match="not one of this installation's other languages"):
        playbooks.add_template(settings, alice, TemplateInput(**{**TEMPLATE, "name": "y",
                                                                 "translations": {"ja": spanish}}))


def test_a_taken_name_is_a_conflict_and_words_too_long_once_filled_are_refused_naming_the_field(settings):
    """A value can make a template's words longer than a statement takes (a long component name in a
    full headline): refused as a typed statement would be (422, the field named), never a server error."""
    site = install(settings)
    author = site.as_role("author")
    made = site.client.post("/api/v1/templates", headers=author, json={
        **TEMPLATE, "components": ["C" * 100], "headline": "x" * 480 + " {components}"})
    assert made.status_code == 201, made.text
    again = site.client.post("/api/v1/templates", headers=author, json=TEMPLATE)
    assert again.status_code == 409 and again.json()["field"] == "name", again.text
    started = site.client.post(f"/api/v1/templates/{made.json()['id']}/statements", headers=author,
                               json={"values": {"alert": "LoginErrors", "summary": "5xx"}})
    assert started.status_code == 422 and started.json()["field"] == "headline", started.text
    assert "filled" in started.json()["detail"]
    unknown = site.client.post(f"/api/v1/templates/{made.json()['id']}/statements", headers=author,
                               json={"values": {"when": "now"}})
    assert unknown.status_code == 422 and unknown.json()["field"].startswith("values"), unknown.text
