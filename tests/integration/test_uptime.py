"""Uptime history from a seeded history with known minutes: statements drafted, approved and published
through the real use cases (SQLite and PostgreSQL), then their publication times set to known moments.
The status page's 90-day bars and percentages, and /uptime.json over HTTP, say what the minutes make;
scheduled maintenance is not downtime."""

import json
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from broadcaster.approvals import decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import components, maintenance, publishing
from broadcaster.store.db import transaction
from broadcaster.store.models import Component, Incident, Statement, utcnow
from broadcaster.surfaces import render_documents, take_snapshot
from broadcaster.web.public import create_public_app
from tests.conftest import actor, make_settings
from tests.integration.surfaces_data import ensure_users, open_incident, publish_update

MIDNIGHT = datetime.combine(utcnow().date(), time(0), UTC)
NOW = MIDNIGHT + timedelta(hours=12)  # today has 720 minutes so far; the 89 days before it 1,440 each
OBSERVED = 89 * 1440 + 720


@pytest.fixture
def live(database_url):
    return make_settings(database_url, public_cache_seconds=0, timezone="UTC",
                         status_page_url="https://status.example.com")


def day(days_ago: int, hour: int, minute: int = 0) -> datetime:
    return MIDNIGHT - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)


def seed(settings, statement_id: int, at: datetime) -> None:
    with transaction(settings.database_url) as s:
        s.execute(update(Statement).where(Statement.id == statement_id).values(published_at=at, created_at=at))


def seeded_history(settings) -> int:
    """Login: 60 minutes of major outage then 120 of partial, ten days ago (96 weighted minutes).
    API: 60 minutes of partial outage then 120 of degraded performance (18). Login under maintenance
    for 2 hours three days ago (none). Search: added yesterday, never down."""
    ensure_users(settings)
    components.add_component(settings, actor(settings, "alice"), "Login")
    components.add_component(settings, actor(settings, "alice"), "Search")
    incident = open_incident(settings, "Login failures", "major", ("Login", "API"))
    first = publish_update(settings, incident, component_states={"Login": "major_outage", "API": "partial_outage"})
    second = publish_update(settings, incident, status="identified", headline="A bad certificate",
                            component_states={"Login": "partial_outage", "API": "degraded_performance"})
    third = publish_update(settings, incident, status="resolved", headline="Logins work again")
    for statement_id, at in ((first, day(10, 9)), (second, day(10, 10)), (third, day(10, 12))):
        seed(settings, statement_id, at)
    start = utcnow() + timedelta(hours=1)
    planned = maintenance.schedule(settings, actor(settings, "alice"), "Database upgrade", start,
                                   start + timedelta(hours=2), ["Login"], "Logins may be slow.")["statements"]
    for statement_id in planned.values():
        decisions.approve(settings, actor(settings, "bob"), statement_id)
    publishing.publish(settings, actor(settings, "alice"), planned["scheduled"], dispatch=send_now)
    maintenance.publish_due(settings, now=start + timedelta(hours=3), dispatch=send_now)
    for name, at in (("scheduled", day(4, 9)), ("in_progress", day(3, 1)), ("completed", day(3, 3))):
        seed(settings, planned[name], at)
    with transaction(settings.database_url) as s:
        s.execute(update(Incident).where(Incident.id == incident).values(created_at=day(10, 9),
                                                                         resolved_at=day(10, 12)))
        s.execute(update(Component).where(Component.name == "Login").values(created_at=day(200, 0)))
        s.execute(update(Component).where(Component.name == "Search").values(created_at=day(1, 0)))
    return incident


def test_seeded_minutes_give_the_expected_bars_and_percentages(live, monkeypatch):
    incident = seeded_history(live)
    documents = render_documents(live, take_snapshot(live, now=NOW), now=NOW)
    history = {c["name"]: c for c in json.loads(documents["uptime.json"].body)["components"]}
    assert list(history) == ["Login", "Search", "API"]  # the table's order, then others named
    login, api, search = history["Login"], history["API"], history["Search"]
    # 100 × (1 − 96 / 128,880) = 99.9255 and 100 × (1 − 18 / 128,880) = 99.986, rounded down.
    assert (login["uptime_percent"], api["uptime_percent"], search["uptime_percent"]) == (99.92, 99.98, 100.0)
    assert login["uptime_percent"] == int(10000 * (1 - 96 / OBSERVED)) / 100
    assert len(login["days"]) == 90 and login["days"][-1]["date"] == MIDNIGHT.date().isoformat()
    ten = login["days"][-11]
    assert (ten["major_outage_minutes"], ten["partial_outage_minutes"], ten["downtime_minutes"]) == (60, 120, 96)
    assert ten["level"] == "major_outage" and [i["id"] for i in ten["incidents"]] == [str(incident)]
    assert ten["incidents"][0]["shortlink"] == f"https://status.example.com/status#incident-{incident}"
    api_ten = api["days"][-11]
    assert (api_ten["partial_outage_minutes"], api_ten["degraded_performance_minutes"]) == (60, 120)
    assert api_ten["level"] == "partial_outage"
    # Maintenance three days ago: no downtime, an ordinary day.
    assert login["days"][-4]["level"] == "operational" and login["days"][-4]["downtime_minutes"] == 0
    assert {d["level"] for i, d in enumerate(login["days"]) if i != 79} == {"operational"}
    assert [d["level"] for d in search["days"][-3:]] == ["no_data", "operational", "operational"]

    page = documents["status/index.html"].body.decode()
    bars = re.findall(r'<li class="level-([a-z_]+)" title="([^"]*)"', page)
    assert len(bars) == 3 * 90
    assert bars[79][0] == "major_outage"  # Login, ten days ago
    assert bars[79][1].endswith(": 1 hour of major outage, 2 hours of partial outage (Login failures)")
    assert bars[89][1].endswith(": No downtime")
    assert "99.92% uptime" in page and "99.98% uptime" in page and "100% uptime" in page
    assert "Scheduled maintenance is not downtime." in page

    # The same, over HTTP from the public server.
    monkeypatch.setattr("broadcaster.surfaces.documents.utcnow", lambda: NOW)
    with TestClient(create_public_app(live)) as client:
        served = client.get("/uptime.json")
        assert served.headers["access-control-allow-origin"] == "*"
        assert served.json()["components"][0]["uptime_percent"] == 99.92
        assert client.get("/status").text == page


def test_the_bars_speak_the_readers_language(database_url):
    settings = make_settings(database_url, locales=["es", "ja"], public_cache_seconds=0, timezone="UTC")
    seeded_history(settings)
    documents = render_documents(settings, take_snapshot(settings, now=NOW), now=NOW)
    spanish = documents["es/status/index.html"].body.decode()
    assert "Disponibilidad, últimos 90 días" in spanish and "99,92% de disponibilidad" in spanish
    assert "1 hora de interrupción grave, 2 horas de interrupción parcial (Login failures)" in spanish
    japanese = documents["ja/status/index.html"].body.decode()
    assert "稼働率（過去90日間）" in japanese and "稼働率 99.92%" in japanese
