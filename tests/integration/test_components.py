"""Components as a table, and a state per component approved with each statement: what the
Statuspage JSON and the status page show."""

import json

import pytest
from sqlalchemy import update

from broadcaster.approvals import decisions
from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.incidents import components, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.db import transaction
from broadcaster.store.models import Statement
from broadcaster.surfaces import render_documents, take_snapshot
from tests.conftest import actor
from tests.integration.surfaces_data import ensure_users, open_incident, publish_update


def api(settings, name: str):
    return json.loads(render_documents(settings, take_snapshot(settings))[f"api/v2/{name}"].body)


def add(settings, name, group=None, order=0, description=""):
    return components.add_component(settings, actor(settings, "alice"), name, description, group, order)


def test_components_are_listed_in_group_and_order_and_a_duplicate_is_refused(settings):
    ensure_users(settings)
    add(settings, "API", order=2)
    add(settings, "Login", order=1)
    add(settings, "EU database", group="Databases", order=1)
    names = [c["name"] for c in components.list_components(settings)]
    assert names == ["Login", "API", "EU database"]
    with pytest.raises(InvalidInput, match="exists already"):
        add(settings, "Login")


def test_the_approved_component_state_is_what_the_statuspage_json_shows(settings):
    ensure_users(settings)
    add(settings, "Login", order=1, description="Signing in")
    add(settings, "Billing", order=2)
    incident = open_incident(settings, impact="minor", components=("Login",))
    publish_update(settings, incident, component_states={"Login": "major_outage"})
    shown = {c["name"]: c for c in api(settings, "components.json")["components"]}
    assert shown["Login"]["status"] == "major_outage"  # given, not derived from the minor impact
    assert shown["Login"]["description"] == "Signing in"
    assert shown["Billing"]["status"] == "operational"  # in the table, named by no live update
    assert [c["name"] for c in api(settings, "components.json")["components"]] == ["Login", "Billing"]
    publish_update(settings, incident, status="resolved", headline="Fixed")
    assert {c["name"]: c["status"] for c in api(settings, "components.json")["components"]}["Login"] == "operational"


def test_grouped_components_sit_under_a_group_component_in_the_worst_state_of_its_children(settings):
    ensure_users(settings)
    add(settings, "EU database", group="Databases", order=1)
    add(settings, "US database", group="Databases", order=2)
    incident = open_incident(settings, impact="major", components=("EU database",))
    publish_update(settings, incident)
    shown = api(settings, "components.json")["components"]
    group = next(c for c in shown if c["group"])
    children = [c for c in shown if c["group_id"] == group["id"]]
    assert group["name"] == "Databases" and len(children) == 2
    assert {c["name"]: c["status"] for c in children} == {"EU database": "partial_outage",
                                                          "US database": "operational"}
    assert group["status"] == "partial_outage" and sorted(group["components"]) == sorted(c["id"] for c in children)


def test_component_states_are_covered_by_the_approval(settings):
    ensure_users(settings)
    incident = open_incident(settings, impact="major", components=("Login",))
    draft = statements.draft(settings, actor(settings, "alice"), incident, StatementInput(
        headline="Logins fail", body="Some logins fail.", next_update="30m",
        component_states={"Login": "degraded_performance"}))
    submitted = statements.submit(settings, actor(settings, "alice"), draft["id"])
    with transaction(settings.database_url) as s:  # behind the app's back
        s.execute(update(Statement).where(Statement.id == draft["id"])
                  .values(component_states={"Login": "operational"}))
    with pytest.raises(NotAllowed, match="changed in the database after it was submitted"):
        decisions.approve(settings, actor(settings, "bob"), draft["id"], submitted["content_hash"])


def test_states_default_from_the_impact_when_not_given(settings):
    incident = open_incident(settings, impact="critical", components=("Login", "API"))
    draft = statements.draft(settings, actor(settings, "alice"), incident, StatementInput(
        headline="Down", body="Everything is down.", next_update="30m"))
    assert draft["component_states"] == {"Login": "major_outage", "API": "major_outage"}


def test_cli_sets_a_component_state_and_lists_components(database_url, tmp_path, monkeypatch, capsys):
    from broadcaster.cli import main
    from broadcaster.config import get_settings
    from tests.integration.test_cli import Result  # noqa: F401 - same shape

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args):
        get_settings.cache_clear()
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        return code, capsys.readouterr()

    from tests.conftest import make_settings
    settings = make_settings(database_url)
    ensure_users(settings)
    assert run("component", "add", "Login", "--group", "Web", "--as", "alice")[0] == 0
    code, captured = run("component", "list", "--json")
    assert code == 0 and json.loads(captured.out)[0]["group"] == "Web"
    incident = open_incident(settings, components=("Login",))
    code, captured = run("statement", "draft", str(incident), "--as", "alice", "--headline", "H", "--body", "B",
                         "--next-update", "30m", "--component-state", "Login=major_outage")
    assert code == 0, captured.err
    assert statements.list_statements(settings, incident)[-1]["component_states"] == {"Login": "major_outage"}
    code, captured = run("statement", "draft", str(incident), "--as", "alice", "--component-state", "Login=bad")
    assert code == 1 and "is not one of operational" in captured.err and "Traceback" not in captured.err
    get_settings.cache_clear()
