"""Alert sources and rules managed from the API and the CLI: credentials shown once and rotated, bad
input refused naming the field, nothing removed that alerts still refer to."""

from pathlib import Path

import pytest
import yaml

from broadcaster.alerts import rules, sources
from broadcaster.domain.errors import NotAllowed
from tests import loopback
from tests.conftest import actor
from tests.integration import alert_fixtures
from tests.integration.alert_fixtures import TEMPLATE, alertmanager_payload
from tests.integration.api_fixtures import install
from tests.integration.test_cli import run  # noqa: F401 - the CLI fixture

alert_site = alert_fixtures.alert_site


def test_the_api_manages_sources_and_rules(settings):
    site = install(settings)
    admin, author = site.as_role("admin"), site.as_role("author")
    made = site.client.post("/api/v1/alerts/sources", json={"name": "prom", "kind": "alertmanager"}, headers=admin)
    assert made.status_code == 201 and len(made.json()["token"]) > 30
    assert made.json()["url"].endswith("/webhooks/alerts/prom")
    taken = site.client.post("/api/v1/alerts/sources", json={"name": "prom", "kind": "grafana"}, headers=admin)
    assert taken.status_code == 409 and taken.json()["field"] == "name", taken.text
    listed = site.client.get("/api/v1/alerts/sources", headers=author).json()
    assert [x["name"] for x in listed] == ["prom"] and "token" not in listed[0]
    for body, field in (({"name": "Prom", "kind": "alertmanager"}, None), ({"name": "pd", "kind": "pagerduty"}, None),
                        ({"name": "x", "kind": "nagios"}, "kind"),
                        ({"name": "x", "kind": "grafana", "secret": "s"}, "secret"),
                        ({"name": "pd", "kind": "pagerduty", "secret": "has spaces"}, "secret")):
        refused = site.client.post("/api/v1/alerts/sources", json=body, headers=admin)
        assert refused.status_code == 422, refused.text
        if field:
            assert refused.json()["field"] == field

    assert site.client.post("/api/v1/templates", json=TEMPLATE, headers=author).status_code == 201
    rule = site.client.post("/api/v1/alerts/rules", headers=author, json={
        "name": "login", "template": "login-down", "matchers": {"service": "login"}, "source": "prom",
        "notify": ["bob"], "impact": "critical"})
    assert rule.status_code == 201, rule.text
    assert rule.json()["impact"] == "critical" and rule.json()["components"] == ["Login"]
    assert rule.json()["written_as"] == "alice"
    for body, says in (({"name": "r2", "template": "nope"}, "no template"),
                       ({"name": "r2", "template": "login-down", "notify": ["sam"]}, "neither an author"),
                       ({"name": "r2", "template": "login-down", "holding": 1}, "both"),
                       ({"name": "r2", "template": "login-down", "holding": 9, "holding_after_minutes": 5},
                        "not a holding statement"),
                       ({"name": "r2", "template": "login-down", "impact": "Critical"}, "impact")):
        refused = site.client.post("/api/v1/alerts/rules", json=body, headers=author)
        assert refused.status_code == 422 and says in refused.json()["detail"], refused.text
    taken = site.client.post("/api/v1/alerts/rules", json={"name": "login", "template": "login-down"}, headers=author)
    assert taken.status_code == 409 and "exists already" in taken.json()["detail"], taken.text
    off = site.client.put(f"/api/v1/alerts/rules/{rule.json()['id']}", headers=author,
                          json={"name": "login", "template": "login-down", "enabled": False})
    assert off.json()["enabled"] is False and off.json()["source"] is None
    assert site.client.delete(f"/api/v1/alerts/rules/{rule.json()['id']}", headers=author).status_code == 200
    assert rules.list_rules(settings) == []
    assert site.client.delete("/api/v1/alerts/sources/prom", headers=admin).status_code == 200
    assert sources.list_sources(settings) == []


def test_a_rotated_token_shuts_the_old_one_out_and_what_alerts_refer_to_stays(alert_site):
    site = alert_site
    old = site.credentials["prom"]
    assert site.alertmanager(alertmanager_payload("firing"), token=old).status_code == 200
    root = actor(site.settings, "root")
    new = sources.rotate(site.settings, root, "prom")["token"]
    assert site.alertmanager(alertmanager_payload("firing"), token=old).status_code == 401
    assert site.alertmanager(alertmanager_payload("firing"), token=new).status_code == 200
    with pytest.raises(NotAllowed, match="rotate its credential"):
        sources.remove_source(site.settings, root, "prom")
    with pytest.raises(NotAllowed, match="disable it instead"):
        rules.remove_rule(site.settings, actor(site.settings, "alice"), site.rule_id)
    assert loopback.get(f"{site.url}/webhooks/alerts/prom", timeout=10).status_code == 405  # POST only


def test_the_cli_manages_sources_and_rules(run):  # noqa: F811
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "alice", "--role", "author", user="root")
    made = run("alert", "source", "add", "prom", "--kind", "alertmanager", user="root").stdout
    assert "POST http://127.0.0.1:8080/webhooks/alerts/prom" in made and "bearer token (shown once): " in made
    refused = run("alert", "source", "add", "prom2", "--kind", "alertmanager", user="alice", ok=False)
    assert refused.returncode == 1 and "needs role admin" in refused.stderr
    assert "prom  alertmanager" in run("alert", "source", "list").stdout
    file = Path("login.yaml")  # in the test's own folder (the fixture's working directory)
    file.write_text(yaml.safe_dump(TEMPLATE))
    run("template", "add", "--file", str(file), user="alice")
    added = run("alert", "rule", "add", "login", "--template", "login-down", "--match", "service=login",
                "--match", "severity=critical|page", user="alice").stdout
    assert "rule #1 login: {'service': 'login', 'severity': 'critical|page'} → template login-down" in added
    bad = run("alert", "rule", "add", "other", "--template", "login-down", "--match", "service", user="alice", ok=False)
    assert "--match: 'service' is not LABEL=VALUE" in bad.stderr
    too_long = run("alert", "rule", "add", "x" * 300, "--template", "login-down", user="alice", ok=False)
    assert too_long.returncode == 1 and "Traceback" not in too_long.stderr, too_long.stderr
    assert too_long.stderr.startswith("error: name: ") and "at most" in too_long.stderr, too_long.stderr
    run("alert", "rule", "disable", "login", user="alice")
    assert "#1 login (disabled)" in run("alert", "rule", "list").stdout
    assert "no alerts have come in" in run("alert", "groups").stdout
