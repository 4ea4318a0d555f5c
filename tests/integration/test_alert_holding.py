"""A rule's pre-approved holding statement, switched on when nobody answers monitoring's draft in time:
off by default, once per incident, never after a person acted, audited, and the approvers told."""

from datetime import timedelta

from sqlalchemy import select

from broadcaster.alerts import holding_switch, rules
from broadcaster.alerts.rules import RuleInput
from broadcaster.delivery.chunk import send_now
from broadcaster.delivery.sendlog import send_log
from broadcaster.holding import holding_statements
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, utcnow
from tests.conftest import actor
from tests.integration import alert_fixtures
from tests.integration.alert_fixtures import alertmanager_payload
from tests.integration.holding_data import HEADLINE, approved_holding_statement

alert_site = alert_fixtures.alert_site


def _with_holding(site, minutes: int = 5) -> int:
    settings = site.settings
    kept = holding_statements.keep(settings, actor(settings, "alice"), approved_holding_statement(settings))
    rules.change_rule(settings, actor(settings, "alice"), site.rule_id, RuleInput(
        name="login", template="login-down", matchers={"service": "login"}, holding=kept["number"],
        holding_after_minutes=minutes))
    return kept["statement_id"]


def test_nobody_answers_so_the_holding_statement_goes_live_once_and_the_approvers_are_told(alert_site):
    site = alert_site
    holding_id = _with_holding(site)
    incident_id = site.alertmanager(alertmanager_payload("firing")).json()["incident_id"]
    now = utcnow()
    assert holding_switch.switch_due(site.settings, send_now, now + timedelta(minutes=4)) == []
    assert holding_switch.switch_due(site.settings, send_now, now + timedelta(minutes=6)) == [incident_id]
    assert statements.get_statement(site.settings, holding_id)["state"] == "published"
    # monitoring's own draft is still a draft: only the approved holding words went out
    (draft,) = statements.list_statements(site.settings, incident_id)
    assert draft["state"] == "draft"
    assert holding_switch.switch_due(site.settings, send_now, now + timedelta(minutes=60)) == []  # once

    with transaction(site.settings.database_url) as s:
        audit = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "alert switched holding on")).all()
        activation = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "activate holding")).all()
    assert len(audit) == 1 and audit[0]["minutes"] == 5
    assert activation[0]["via"] == f"alert rule login: no answer to incident {incident_id} within 5 min"
    told = [e for e in send_log(site.settings, kind="alert notice") if e["status"] == "simulated"]
    holding_notices = told[-4:]
    assert {e["target"] for e in holding_notices} == {"alice@example.com", "bob@example.com", "carol@example.com",
                                                      "+14155550142"}
    from tests.integration.messages_sent import words_sent_to

    assert f'"{HEADLINE}" is live on every channel' in words_sent_to(site.settings, "carol@example.com")
    assert send_log(site.settings, kind="statement")  # the holding statement's words were sent


def test_a_person_who_edits_the_draft_in_time_keeps_the_holding_statement_off(alert_site):
    site = alert_site
    holding_id = _with_holding(site)
    incident_id = site.alertmanager(alertmanager_payload("firing")).json()["incident_id"]
    (draft,) = statements.list_statements(site.settings, incident_id)
    statements.edit(site.settings, actor(site.settings, "root"), draft["id"], StatementInput(body="We know."))
    assert holding_switch.switch_due(site.settings, send_now, utcnow() + timedelta(minutes=30)) == []
    assert statements.get_statement(site.settings, holding_id)["state"] == "approved"


def test_without_a_holding_statement_on_the_rule_nothing_is_ever_switched_on(alert_site):
    site = alert_site
    site.alertmanager(alertmanager_payload("firing"))
    assert holding_switch.switch_due(site.settings, send_now, utcnow() + timedelta(days=2)) == []
    assert send_log(site.settings, kind="statement") == []
