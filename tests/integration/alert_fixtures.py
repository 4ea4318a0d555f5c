"""The installation of the alert tests: people, a statement template, one source of each kind and a rule,
the full app under a real uvicorn on a loopback port (notices sent in the app's process), and real
payloads as Alertmanager, Grafana, PagerDuty and a Standard Webhooks sender post them."""

import copy
import json
from dataclasses import dataclass, field

import httpx
import pytest

from broadcaster.alerts import rules, sources
from broadcaster.alerts.pagerduty import signature
from broadcaster.alerts.rules import RuleInput
from broadcaster.delivery.chunk import send_now
from broadcaster.playbooks import statement_templates as playbooks
from broadcaster.playbooks.statement_templates import TemplateInput
from broadcaster.web.app import create_app
from tests import loopback
from tests.conftest import actor, add_user, make_settings
from tests.e2e.conftest import LiveServer

TEMPLATE = {
    "name": "login-down", "title": "Login problems: {alert}", "impact": "major", "components": ["Login"],
    "headline": "Some customers cannot log in to {components}",
    "body": "Since {started_at}, logins to {components} fail for some customers ({summary}). We are investigating "
            "and will update you within {next_update}.",
    "workaround": "The mobile app still works.", "next_update": "30m",
    "resolution": "Logins to {components} work normally again.",
    "resolved_body": "Since {started_at}, logins to {components} failed for some customers. It is fixed: you can log "
                     "in as usual."}

# An Alertmanager webhook payload, version 4, as Alertmanager 0.27 posts it.
ALERTMANAGER = {
    "receiver": "broadcaster", "status": "firing", "version": "4", "truncatedAlerts": 0,
    "groupKey": '{}/{service="login"}:{alertname="LoginErrors"}',
    "groupLabels": {"alertname": "LoginErrors"},
    "commonLabels": {"alertname": "LoginErrors", "service": "login", "severity": "critical"},
    "commonAnnotations": {"summary": "login error rate above 20%"},
    "externalURL": "http://alertmanager.example.com:9093",
    "alerts": [{"status": "firing", "labels": {"alertname": "LoginErrors", "service": "login", "severity": "critical",
                                              "instance": "auth-1:9100"},
                "annotations": {"summary": "login error rate above 20%"},
                "startsAt": "2026-12-06T07:00:00.123456789Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com/graph?g0.expr=...", "fingerprint": "c3f4e7b2a1d09e88"}],
}


def alertmanager_payload(status: str = "firing", group_key: str | None = None, fingerprints=("c3f4e7b2a1d09e88",)):
    payload = copy.deepcopy(ALERTMANAGER)
    payload["status"] = status
    if group_key:
        payload["groupKey"] = group_key
    one = payload["alerts"][0]
    payload["alerts"] = [{**one, "status": status, "fingerprint": fp,
                          "endsAt": "2026-12-06T07:20:00Z" if status == "resolved" else one["endsAt"]}
                         for fp in fingerprints]
    return payload


def pagerduty_event(event_type: str = "incident.triggered", incident_id: str = "Q2GQ4J5EXAMPLE") -> dict:
    """A PagerDuty v3 webhook event (an incident's), as the webhook subscription posts it."""
    return {"event": {
        "id": "01DEN7B1W9HXQ8BE5J1Q3Q7XYZ", "event_type": event_type, "resource_type": "incident",
        "occurred_at": "2026-12-06T07:00:05.000Z", "agent": None, "client": None,
        "data": {"id": incident_id, "type": "incident", "self": f"https://api.pagerduty.com/incidents/{incident_id}",
                 "html_url": f"https://example.pagerduty.com/incidents/{incident_id}", "number": 2,
                 "status": "triggered", "incident_key": "d3640fbd41094207", "created_at": "2026-12-06T07:00:00Z",
                 "title": "Login error rate above 20%",
                 "service": {"id": "PSERVICE", "summary": "login", "type": "service_reference"},
                 "assignees": [], "escalation_policy": {"id": "PEP", "summary": "Default"}, "teams": [],
                 "priority": {"id": "PPRIO", "summary": "P1"}, "urgency": "high", "conference_bridge": None,
                 "resolve_reason": None}}}


@dataclass
class AlertSite:
    settings: object
    url: str
    credentials: dict = field(default_factory=dict)  # source name → token or secret
    template_id: int = 0
    rule_id: int = 0

    def alertmanager(self, payload: dict, token: str | None = "default", source: str = "prom") -> httpx.Response:
        token = self.credentials[source] if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return loopback.post(f"{self.url}/webhooks/alerts/{source}", json=payload, headers=headers, timeout=30)

    def pagerduty(self, event: dict, secret: str | None = None) -> httpx.Response:
        body = json.dumps(event).encode()
        sig = signature(secret or self.credentials["pd"], body)
        return loopback.post(f"{self.url}/webhooks/alerts/pd", content=body, timeout=30,
                             headers={"Content-Type": "application/json", "X-PagerDuty-Signature": sig})


@pytest.fixture
def alert_site(database_url):
    settings = make_settings(database_url, public_url="https://broadcaster.example.com")
    add_user(settings, "alice", ["author"], email="alice@example.com")
    add_user(settings, "bob", ["approver"], email="bob@example.com", phone="+14155550142")
    add_user(settings, "carol", ["approver"], email="carol@example.com")
    add_user(settings, "dave", ["social"], email="dave@example.com")
    root, alice = actor(settings, "root"), actor(settings, "alice")
    template = playbooks.add_template(settings, alice, TemplateInput(**TEMPLATE))
    credentials = {}
    for name, kind, secret in (("prom", "alertmanager", None), ("grafana", "grafana", None),
                               ("pd", "pagerduty", "pd-signing-secret-1234"), ("hooks", "generic", None)):
        made = sources.add_source(settings, root, name, kind, secret)
        credentials[name] = made.get("token") or made.get("secret") or secret
    rule = rules.add_rule(settings, alice, RuleInput(name="login", template="login-down",
                                                     matchers={"service": "login"}))
    app = create_app(settings)
    app.state.dispatch = send_now
    server = LiveServer(app).start()
    yield AlertSite(settings, server.url, credentials, template["id"], rule["id"])
    server.stop()
