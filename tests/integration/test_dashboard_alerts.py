"""The dashboard's alerts and templates page, and the editor started from a template, through HTTP as a
browser uses them: forms with CSRF, a refused form shown again with the message and what was typed."""

import re

import pytest

from broadcaster.alerts import rules
from broadcaster.incidents import statements
from broadcaster.people import auth
from broadcaster.playbooks import statement_templates as playbooks
from broadcaster.playbooks.statement_templates import TemplateInput
from tests.conftest import actor
from tests.integration.alert_fixtures import TEMPLATE
from tests.integration.api_fixtures import install
from tests.integration.test_dashboard import PASSWORD, log_in


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the pages' behaviour does not depend on the database; the flows run on both


@pytest.fixture
def site(settings):
    installation = install(settings, dispatch=lambda settings, ids: None)
    for name in ("alice", "bob", "admin"):
        auth.set_password(settings, name, PASSWORD)
    return installation


def test_an_author_adds_a_template_and_a_rule_and_a_refused_form_keeps_the_input(site, settings):
    csrf = log_in(site.client, "alice")
    page = site.client.get("/dashboard/alerts")
    assert page.status_code == 200 and "No templates yet." in page.text
    assert 'id="source-form"' not in page.text  # sources are an admin's

    bad = site.client.post("/dashboard/templates", data={**TEMPLATE, "components": "Login", "body": "Since {when}",
                                                         "csrf_token": csrf})
    assert bad.status_code == 422 and "unknown placeholder {when}" in bad.text
    assert 'value="Login problems: {alert}"' in bad.text and "Since {when}</textarea>" in bad.text
    assert playbooks.list_templates(settings) == []

    added = site.client.post("/dashboard/templates", data={**TEMPLATE, "components": "Login", "csrf_token": csrf},
                             follow_redirects=False)
    assert added.status_code == 303
    (template,) = playbooks.list_templates(settings)
    assert template["components"] == ["Login"] and template["name"] == "login-down"

    refused = site.client.post("/dashboard/alerts/rules", data={
        "name": "login", "template": "login-down", "matchers": "service login", "csrf_token": csrf})
    assert refused.status_code == 422 and "is not LABEL=VALUE" in refused.text
    assert "service login</textarea>" in refused.text
    rule = site.client.post("/dashboard/alerts/rules", data={
        "name": "login", "template": "login-down", "matchers": "service=login\nseverity=critical|page",
        "notify": "bob", "csrf_token": csrf}, follow_redirects=False)
    assert rule.status_code == 303
    (made,) = rules.list_rules(settings)
    assert made["matchers"] == {"service": "login", "severity": "critical|page"} and made["notify"] == ["bob"]
    assert made["written_as"] == "alice"

    off = site.client.post(f"/dashboard/alerts/rules/{made['id']}/disable", data={"csrf_token": csrf},
                           follow_redirects=False)
    assert off.status_code == 303 and rules.list_rules(settings)[0]["enabled"] is False
    page = site.client.get("/dashboard/alerts")
    assert "login (off)" in page.text and "<code>service=login</code>" in page.text


def test_an_admin_adds_a_source_and_sees_its_token_once(site, settings):
    csrf = log_in(site.client, "admin")
    shown = site.client.post("/dashboard/alerts/sources", data={"name": "prom", "kind": "alertmanager",
                                                                "csrf_token": csrf})
    assert shown.status_code == 201
    token = re.search(r'bearer token, shown this once: <code class="hash">([^<]+)</code>', shown.text).group(1)
    assert len(token) > 30
    again = site.client.get("/dashboard/alerts")
    assert token not in again.text and "/webhooks/alerts/prom" in again.text
    refused = site.client.post("/dashboard/alerts/sources", data={"name": "Prom!", "kind": "alertmanager",
                                                                  "csrf_token": csrf})
    assert refused.status_code == 422 and "is not a source name" in refused.text


def test_the_editor_starts_from_a_template_and_open_from_template_asks_for_the_alert(site, settings):
    playbooks.add_template(settings, actor(settings, "alice"), TemplateInput(**TEMPLATE))
    csrf = log_in(site.client, "alice")
    editor = site.client.get(f"/dashboard/incidents/{site.incident_id}/new")
    assert 'id="from-template"' in editor.text and "login-down" in editor.text
    filled = site.client.get(f"/dashboard/incidents/{site.incident_id}/new?template=1")
    assert filled.status_code == 200
    assert 'value="Some customers cannot log in to Login"' in filled.text
    assert "within 30 minutes" in filled.text
    assert 'id="unfilled"' in filled.text and "<code>{summary}</code>" in filled.text  # for the author to replace
    assert site.client.get(f"/dashboard/incidents/{site.incident_id}/new?template=99").status_code == 404

    page = site.client.get("/dashboard/alerts")
    assert 'name="v_alert"' in page.text and 'name="v_summary"' in page.text
    opened = site.client.post("/dashboard/templates/1/use", data={"csrf_token": csrf, "v_alert": "LoginErrors",
                                                                  "v_summary": "one in five fail"},
                              follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].endswith("/edit")
    newest = statements.list_incidents(settings)[-1]
    assert newest["title"] == "Login problems: LoginErrors"
    (draft,) = statements.list_statements(settings, newest["id"])
    assert draft["state"] == "draft" and "(one in five fail)" in draft["body"]
