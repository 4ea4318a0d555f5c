"""The public documents from a snapshot built by hand: no database, no clock."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from broadcaster.config import Settings
from broadcaster.surfaces import ROUTES, render_documents
from broadcaster.surfaces.phone import callable_number, live_message, sms_keyword
from broadcaster.surfaces.snapshot import IncidentView, Shown, Snapshot

T0 = datetime(2026, 3, 1, 14, 5, tzinfo=UTC)


def shown(version: int, status: str, impact: str = "major", components=("Login",), minutes: int = 0) -> Shown:
    return Shown(statement_id=100 + version, version=version, status=status, impact=impact,
                 components=tuple(components), headline=f"v{version}", published_at=T0 + timedelta(minutes=minutes),
                 fields={"body": f"<p>v{version} &amp; more</p>", "text": f"banner v{version}", "severity": impact,
                         "script": f"spoken v{version}"})


def incident(id_: int, *versions: Shown) -> IncidentView:
    newest_first = tuple(sorted(versions, key=lambda v: v.version, reverse=True))
    return IncidentView(id=id_, title=f"Incident {id_}", created_at=T0,
                        shown={"banner": newest_first, "status_page": newest_first, "ivr": newest_first})


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, status_page_url="https://status.example.com/")


def snapshot() -> Snapshot:
    return Snapshot(incidents=(
        incident(2, shown(1, "investigating", "minor", ("Search",), minutes=1)),
        incident(1, shown(1, "investigating", minutes=0), shown(2, "monitoring", minutes=10),
                 shown(3, "resolved", minutes=20)),
    ), switched_at=T0 + timedelta(minutes=20))


def test_same_snapshot_same_bytes_whenever_rendered(settings):
    later = T0 + timedelta(hours=1)  # the uptime bars move with the clock; the same moment, the same bytes
    first, second = render_documents(settings, snapshot(), now=later), render_documents(settings, snapshot(), now=later)
    cap_alerts = {"cap/incident-2-v1.xml", "cap/incident-1-v1.xml", "cap/incident-1-v2.xml", "cap/incident-1-v3.xml"}
    assert set(first) == set(ROUTES.values()) | cap_alerts  # every version is a CAP alert too (test_cap.py)
    assert {path: doc.body for path, doc in first.items()} == {path: doc.body for path, doc in second.items()}


def test_resolved_incident_has_monitoring_and_resolved_times(settings):
    docs = render_documents(settings, snapshot())
    incidents = {i["id"]: i for i in json.loads(docs["api/v2/incidents.json"].body)["incidents"]}
    over = incidents["1"]
    assert (over["status"], over["monitoring_at"], over["resolved_at"]) == (
        "resolved", "2026-03-01T14:15:00.000Z", "2026-03-01T14:25:00.000Z")
    assert [u["body"] for u in over["incident_updates"]] == ["v3 & more", "v2 & more", "v1 & more"]  # text
    assert incidents["2"]["shortlink"] == "https://status.example.com/status#incident-2"


def test_overall_state_and_banner_follow_the_unresolved_incident(settings):
    docs = render_documents(settings, snapshot())
    assert json.loads(docs["api/v2/status.json"].body)["status"] == {
        "indicator": "minor", "description": "Minor Service Outage"}
    assert json.loads(docs["banner.json"].body)["text"] == "banner v1"
    components = json.loads(docs["api/v2/components.json"].body)["components"]
    assert {c["name"]: c["status"] for c in components} == {"Login": "operational",
                                                           "Search": "degraded_performance"}


def test_nothing_live_means_no_banner_and_all_operational(settings):
    empty = render_documents(settings, Snapshot(incidents=(), switched_at=None))
    assert json.loads(empty["banner.json"].body) is None
    summary = json.loads(empty["api/v2/summary.json"].body)
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []
    assert summary["page"]["updated_at"] == "1970-01-01T00:00:00.000Z"


def test_ivr_says_the_most_severe_unresolved_incidents_script():
    both = Snapshot(incidents=(incident(3, shown(1, "identified", "critical")),
                               incident(2, shown(1, "investigating", "minor"))), switched_at=T0)
    message = live_message(both)
    assert (message.incident_id, message.script) == (3, "spoken v1")
    assert live_message(Snapshot(incidents=(), switched_at=None)) is None


def test_banner_script_never_parses_what_it_fetches_as_html(settings):
    script = (settings.templates_dir / "_web" / "banner.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
    assert "textContent" in script and 'new URL("banner.json", script.src)' in script


@pytest.mark.parametrize(("body", "keyword"), [
    ("STOP", "stop"), (" stop ", "stop"), ("Unsubscribe", "stop"), ("QUIT.", "stop"), ("start", "start"),
    ("UNSTOP", "start"), ("help", "help"), ("stop it please", None), ("", None), (None, None)])
def test_sms_keywords(body, keyword):
    assert sms_keyword(body) == keyword


def test_callable_numbers_are_e164_or_none():
    assert callable_number("+14155550123") == "+14155550123"
    assert callable_number("anonymous") is None
    assert callable_number("+266696687") is None  # Twilio's "caller withheld" placeholder
    assert callable_number(None) is None
