"""The receivers, pure: what each source's request becomes, what each refuses, and the rules' matching
and the templates' placeholders."""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from standardwebhooks.webhooks import Webhook

from broadcaster.alerts import alertmanager, generic, grafana, pagerduty
from broadcaster.alerts.enums import AlertState
from broadcaster.alerts.rules import matches
from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.domain.hashing import sha256_hex
from broadcaster.playbooks import placeholders
from tests.integration.alert_fixtures import ALERTMANAGER, alertmanager_payload, pagerduty_event


def test_alertmanager_v4_becomes_one_notification_keyed_by_group_and_fingerprint():
    n = alertmanager.parse(json.dumps(ALERTMANAGER).encode())
    assert n.group_key == '{}/{service="login"}:{alertname="LoginErrors"}' and n.firing
    (a,) = n.alerts
    assert (a.fingerprint, a.status, a.name) == ("c3f4e7b2a1d09e88", AlertState.FIRING, "LoginErrors")
    assert a.summary == "login error rate above 20%"
    assert a.starts_at == datetime(2026, 12, 6, 7, 0, 0, 123456, tzinfo=UTC)  # nanoseconds cut to micro
    assert a.ends_at is None  # Go's zero time
    resolved = alertmanager.parse(json.dumps(alertmanager_payload("resolved")).encode())
    assert not resolved.firing and resolved.alerts[0].ends_at == datetime(2026, 12, 6, 7, 20, tzinfo=UTC)


@pytest.mark.parametrize("change, says", [
    ({"version": "3"}, "version 4"),
    ({"groupKey": ""}, "groupKey: required"),
    ({"alerts": [{"status": "pending", "labels": {}}]}, "neither firing nor resolved"),
    ({"alerts": [{"labels": {f"l{i}": "x" for i in range(101)}}]}, "at most 100 labels"),
    ({"alerts": [{"labels": {}}] * 1001}, "at most 1000"),
    ({"alerts": [{"labels": {}, "startsAt": "yesterday"}]}, "not an RFC 3339 time"),
])
def test_alertmanager_refuses_what_it_cannot_read_naming_the_field(change, says):
    with pytest.raises(InvalidInput, match=says):
        alertmanager.parse(json.dumps({**ALERTMANAGER, **change}).encode())


def test_a_long_group_key_is_kept_by_its_hash_and_an_alert_without_fingerprint_by_its_labels():
    n = alertmanager.parse(json.dumps({**ALERTMANAGER, "groupKey": "k" * 400,
                                       "alerts": [{"labels": {"a": "1"}}, {"labels": {"a": "1"}}]}).encode())
    assert n.group_key.startswith("sha256:") and len(n.group_key) == 71
    assert n.alerts[0].fingerprint == n.alerts[1].fingerprint != ""


def test_grafana_takes_its_own_version():
    assert grafana.parse(json.dumps({**ALERTMANAGER, "version": "1", "orgId": 1}).encode()).firing


def test_the_bearer_token_is_checked_against_its_hash():
    source = SimpleNamespace(token_hash=sha256_hex("right"))
    alertmanager.verify(source, {"authorization": "Bearer right"}, b"")
    for header in (None, "", "Bearer", "Basic right", "Bearer wrong"):
        with pytest.raises(NotAllowed):
            alertmanager.verify(source, {"authorization": header} if header is not None else {}, b"")
    with pytest.raises(NotAllowed):  # a source with no token accepts none
        alertmanager.verify(SimpleNamespace(token_hash=None), {"authorization": "Bearer "}, b"")


def test_pagerduty_signature_any_of_several_and_the_events_it_acts_on():
    body = json.dumps(pagerduty_event()).encode()
    source = SimpleNamespace(secret="s3cret")
    good = pagerduty.signature("s3cret", body)
    pagerduty.verify(source, {"x-pagerduty-signature": f"v1=00ff, {good}"}, body)  # during a rotation
    for header in ("", "v1=00ff", pagerduty.signature("other", body)):
        with pytest.raises(NotAllowed):
            pagerduty.verify(source, {"x-pagerduty-signature": header}, body)
    with pytest.raises(NotAllowed):
        pagerduty.verify(source, {"x-pagerduty-signature": good}, body + b" ")
    n = pagerduty.parse(body)
    assert n.group_key == "Q2GQ4J5EXAMPLE" and n.alerts[0].labels["service"] == "login"
    assert n.alerts[0].labels["priority"] == "P1"
    assert not pagerduty.parse(json.dumps(pagerduty_event("incident.resolved")).encode()).firing
    assert pagerduty.parse(json.dumps(pagerduty_event("incident.acknowledged")).encode()).ignored


def test_generic_is_verified_by_standard_webhooks_and_reads_one_alert_or_a_group():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps({"status": "firing", "labels": {"service": "login"}, "summary": "down"}).encode()
    now = datetime.now(UTC)
    headers = {"webhook-id": "m1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(secret).sign("m1", now, body)}
    generic.verify(SimpleNamespace(secret=secret), headers, body)
    with pytest.raises(NotAllowed):
        generic.verify(SimpleNamespace(secret=secret), {**headers, "webhook-id": "m2"}, body)
    with pytest.raises(NotAllowed):
        generic.verify(SimpleNamespace(secret=secret), {**headers, "webhook-timestamp": "1"}, body)  # too old
    one = generic.parse(body)
    assert one.group_key == one.alerts[0].fingerprint and one.alerts[0].summary == "down"
    two = [{"labels": {"a": "1"}}, {"status": "resolved", "labels": {"a": "2"}}]
    grouped = generic.parse(json.dumps({"group": "g", "alerts": two}).encode())
    assert grouped.group_key == "g" and [a.status for a in grouped.alerts] == [AlertState.FIRING, AlertState.RESOLVED]


def test_rules_match_exact_either_or_present():
    labels = {"service": "login", "severity": "page"}
    assert matches({}, labels)
    assert matches({"service": "login", "severity": "critical|page"}, labels)
    assert matches({"severity": "*"}, labels)
    assert not matches({"team": "*"}, labels)
    assert not matches({"service": "log"}, labels)  # no partial matches
    assert not matches({"service": "login", "severity": "critical"}, labels)


def test_placeholders_are_checked_when_saved_and_filled_at_use():
    placeholders.check("body", "Since {started_at}, {components} ({summary}); a { brace } is words")
    with pytest.raises(InvalidInput, match=r"body: unknown placeholder \{when\}"):
        placeholders.check("body", "Since {when}")
    assert placeholders.fill("headline", "{components} down", {"components": "Login and API"}) == \
        "Login and API down"
    with pytest.raises(InvalidInput, match=r"the placeholder \{summary\} needs a value"):
        placeholders.fill("body", "({summary})", {"summary": ""})
    assert placeholders.fill_known("{alert} at {started_at}", {"started_at": "07:00 UTC"}) == "{alert} at 07:00 UTC"
