"""Alerts in, over real HTTP to the running app (uvicorn on a loopback port), on SQLite and PostgreSQL:
a firing Alertmanager group opens one draft incident with its draft statement from the template and the
people are told through the send log; the same group again adds to it; resolved proposes a resolved
draft; a request without the token or with a bad signature changes nothing; a storm opens one incident."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from broadcaster.alerts import service as alert_service
from broadcaster.delivery.sendlog import send_log
from broadcaster.incidents import statements
from broadcaster.store.alert_models import Alert, AlertGroup
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, Incident, Statement
from tests import loopback
from tests.integration import alert_fixtures
from tests.integration.alert_fixtures import alertmanager_payload, pagerduty_event

alert_site = alert_fixtures.alert_site

NOTICE = "alert notice"


def counts(settings) -> dict:
    with transaction(settings.database_url) as s:
        return {name: s.scalar(select(func.count()).select_from(model)) for name, model in
                (("incidents", Incident), ("statements", Statement), ("groups", AlertGroup), ("alerts", Alert))}


def test_firing_again_and_resolved_make_one_draft_incident_and_a_resolved_draft(alert_site, monkeypatch):
    site = alert_site
    payload = alertmanager_payload("firing")
    # The service words the start against its own "now": the test's moment is the service's, or a midnight
    # between the two readings wrote "Since Thu, Dec 31, 23:54 UTC" (provoked at 23:59:59.7)
    moment = datetime.now(UTC)
    monkeypatch.setattr(alert_service, "utcnow", lambda: moment)
    now = moment.replace(second=0, microsecond=0)
    # Five minutes ago, or midnight if that was yesterday: a start on another day is written with its
    # day ("Since Sun, Dec 6, 23:59 UTC"), which the words below do not expect.
    started = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0))
    payload["alerts"][0]["startsAt"] = started.isoformat().replace("+00:00", "Z")
    first = site.alertmanager(payload)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "opened a draft incident"
    incident_id = first.json()["incident_id"]

    (incident,) = statements.list_incidents(site.settings)
    assert incident["title"] == "Login problems: LoginErrors"
    assert incident["components"] == ["Login"] and incident["impact"] == "major"
    (draft,) = statements.list_statements(site.settings, incident_id)
    assert draft["state"] == "draft" and draft["status"] == "investigating" and draft["author"] == "alice"
    assert draft["headline"] == "Some customers cannot log in to Login"
    assert draft["body"] == (f"Since {started:%H:%M} UTC, logins to Login fail for some customers (login error rate "
                             "above 20%). We are investigating and will update you within 30 minutes."), draft["body"]
    assert draft["next_update_at"] is not None

    # The people were told through the engine: every author and approver (not the social team), by
    # email, and by SMS to those with a phone; each a line in the send log, simulated by the log provider.
    told = send_log(site.settings, kind=NOTICE)
    assert sorted((e["channel"], e["target"]) for e in told if e["status"] == "simulated") == [
        ("email", "alice@example.com"), ("email", "bob@example.com"), ("email", "carol@example.com"),
        ("sms", "+14155550142")]
    assert all(e["subject"] == f"statement:{draft['id']}" for e in told)

    again = site.alertmanager(alertmanager_payload("firing"))
    assert again.json()["outcome"] == "recorded" and again.json()["incident_id"] == incident_id
    assert counts(site.settings) == {"incidents": 1, "statements": 1, "groups": 1, "alerts": 1}
    assert len(send_log(site.settings, kind=NOTICE)) == len(told)  # nobody is told twice

    resolved = site.alertmanager(alertmanager_payload("resolved"))
    assert resolved.json()["outcome"] == "proposed a resolved draft", resolved.text
    versions = statements.list_statements(site.settings, incident_id)
    assert [(v["version"], v["state"], v["status"]) for v in versions] == [
        (1, "withdrawn", "investigating"), (2, "draft", "resolved")]
    assert versions[1]["resolution"] == "Logins to Login work normally again."
    assert versions[1]["body"] == (f"Since {started:%H:%M} UTC, logins to Login failed for some customers. It is "
                                   "fixed: you can log in as usual.") and versions[1]["workaround"] == ""
    assert counts(site.settings)["incidents"] == 1
    # Nothing was published: no statement's words went anywhere.
    assert send_log(site.settings, kind="statement") == []
    resolved_notices = [e for e in send_log(site.settings, kind=NOTICE)
                        if e["subject"] == f"statement:{versions[1]['id']}"]
    assert {e["target"] for e in resolved_notices} >= {"bob@example.com", "+14155550142"}


def test_resolved_then_firing_again_replaces_the_resolved_draft_in_the_same_incident(alert_site):
    site = alert_site
    incident_id = site.alertmanager(alertmanager_payload("firing")).json()["incident_id"]
    site.alertmanager(alertmanager_payload("resolved"))
    flapped = site.alertmanager(alertmanager_payload("firing"))
    assert flapped.json() == {"outcome": "fired again: a new draft", "incident_id": incident_id,
                              "statement_id": flapped.json()["statement_id"]}
    versions = statements.list_statements(site.settings, incident_id)
    assert [(v["state"], v["status"]) for v in versions][-1] == ("draft", "investigating")
    assert counts(site.settings)["incidents"] == 1


def test_the_same_group_firing_after_its_incident_was_resolved_in_public_opens_a_new_one(alert_site):
    site = alert_site
    first = site.alertmanager(alertmanager_payload("firing")).json()["incident_id"]
    site.alertmanager(alertmanager_payload("resolved"))
    with transaction(site.settings.database_url) as s:  # as publishing the resolved version does
        s.get(Incident, first).resolved_at = datetime.now(UTC)
    assert site.alertmanager(alertmanager_payload("resolved")).json()["outcome"] == "resolved: nothing open for it"
    again = site.alertmanager(alertmanager_payload("firing")).json()
    assert again["outcome"] == "opened a draft incident" and again["incident_id"] != first
    assert counts(site.settings)["incidents"] == 2 and counts(site.settings)["groups"] == 1


def test_alertmanager_without_the_token_or_with_another_changes_nothing(alert_site):
    site = alert_site
    before = counts(site.settings)
    missing = site.alertmanager(alertmanager_payload("firing"), token=None)
    wrong = site.alertmanager(alertmanager_payload("firing"), token="not-the-token")
    grafana_token = site.alertmanager(alertmanager_payload("firing"), token=site.credentials["grafana"])
    assert [r.status_code for r in (missing, wrong, grafana_token)] == [401, 401, 401]
    assert missing.headers["www-authenticate"] == "Bearer"
    assert counts(site.settings) == before == {"incidents": 0, "statements": 0, "groups": 0, "alerts": 0}
    assert send_log(site.settings) == []
    with transaction(site.settings.database_url) as s:
        refusals = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "refused: alert")).all()
    assert len(refusals) == 3 and all(r["source"] == "prom" for r in refusals)


def test_pagerduty_bad_signature_changes_nothing_and_a_signed_one_opens_the_draft(alert_site):
    site = alert_site
    bad = site.pagerduty(pagerduty_event(), secret="someone-elses-secret")
    unsigned = loopback.post(f"{site.url}/webhooks/alerts/pd", json=pagerduty_event(), timeout=30)
    assert (bad.status_code, unsigned.status_code) == (401, 401)
    assert counts(site.settings) == {"incidents": 0, "statements": 0, "groups": 0, "alerts": 0}

    opened = site.pagerduty(pagerduty_event("incident.triggered"))
    assert opened.json()["outcome"] == "opened a draft incident"
    acknowledged = site.pagerduty(pagerduty_event("incident.acknowledged"))
    assert acknowledged.json()["outcome"].startswith("ignored")
    resolved = site.pagerduty(pagerduty_event("incident.resolved"))
    assert resolved.json()["outcome"] == "proposed a resolved draft"
    assert counts(site.settings)["incidents"] == 1
    (incident,) = statements.list_incidents(site.settings)
    assert incident["title"] == "Login problems: Login error rate above 20%"


def test_grafana_and_generic_sources(alert_site):
    site = alert_site
    grafana = {**alertmanager_payload("firing", group_key="{}:{alertname=\"LoginErrors\"}"), "version": "1",
               "orgId": 1, "title": "[FIRING:1] LoginErrors", "state": "alerting", "message": "..."}
    answer = site.alertmanager(grafana, source="grafana")
    assert answer.json()["outcome"] == "opened a draft incident", answer.text

    wh = Webhook(site.credentials["hooks"])
    body = json.dumps({"group": "checkout", "status": "firing", "labels": {"service": "login"},
                       "summary": "synthetic login check failing"}).encode()
    now = datetime.now(UTC)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": wh.sign("msg_1", now, body), "Content-Type": "application/json"}
    signed = loopback.post(f"{site.url}/webhooks/alerts/hooks", content=body, headers=headers, timeout=30)
    assert signed.json()["outcome"] == "added to the open incident", signed.text
    replay = loopback.post(f"{site.url}/webhooks/alerts/hooks", content=body, headers=headers, timeout=30)
    assert replay.json()["outcome"].startswith("already handled")
    forged = loopback.post(f"{site.url}/webhooks/alerts/hooks", content=body.replace(b"login", b"login "),
                           headers={**headers, "webhook-id": "msg_2"}, timeout=30)
    assert forged.status_code == 401
    assert counts(site.settings) == {"incidents": 1, "statements": 1, "groups": 2, "alerts": 2}


def test_a_storm_of_500_alerts_in_one_second_opens_one_incident(alert_site):
    """500 alerts in 50 groups of 10 (as Alertmanager batches them), all 50 requests in flight at once
    (one client each): one incident, one draft, each alert once."""
    site = alert_site
    payloads = [alertmanager_payload("firing", group_key=f'{{}}:{{alertname="LoginErrors",pod="{g}"}}',
                                     fingerprints=[f"{g:03d}{i:02d}" for i in range(10)]) for g in range(50)]
    with ThreadPoolExecutor(50) as pool, loopback.client(timeout=60, limits=httpx.Limits(max_connections=50)) as client:
        token = {"Authorization": f"Bearer {site.credentials['prom']}"}
        answers = list(pool.map(lambda p: client.post(f"{site.url}/webhooks/alerts/prom", json=p, headers=token),
                                payloads))
    assert [a.status_code for a in answers] == [200] * 50
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes.count("opened a draft incident") == 1 and outcomes.count("added to the open incident") == 49
    assert counts(site.settings) == {"incidents": 1, "statements": 1, "groups": 50, "alerts": 500}
    assert len({e["subject"] for e in send_log(site.settings, kind=NOTICE)}) == 1


def test_an_alert_no_rule_matches_and_a_bad_payload_change_nothing(alert_site):
    site = alert_site
    other = alertmanager_payload("firing")
    for alert in other["alerts"]:
        alert["labels"]["service"] = "billing"
    assert site.alertmanager(other).json()["outcome"] == "no rule matched"
    v3 = {**alertmanager_payload("firing"), "version": "3"}
    refused = site.alertmanager(v3)
    assert refused.status_code == 422 and "version 4" in refused.json()["detail"]
    assert site.alertmanager(alertmanager_payload("resolved")).json()["outcome"] == "resolved: nothing open for it"
    assert loopback.post(f"{site.url}/webhooks/alerts/nobody", json={}, timeout=30).status_code == 404
    huge = loopback.post(f"{site.url}/webhooks/alerts/prom", content=b"x" * (1024 * 1024 + 1), timeout=30,
                         headers={"Authorization": f"Bearer {site.credentials['prom']}"})
    assert huge.status_code == 413
    assert counts(site.settings) == {"incidents": 0, "statements": 0, "groups": 0, "alerts": 0}
