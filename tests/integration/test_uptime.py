"""Uptime history from a seeded history with known minutes (uptime_data.py), on SQLite and PostgreSQL:
the status page's 90-day bars and percentages, and /uptime.json over HTTP, say what the minutes make;
scheduled maintenance is not downtime."""

import json
import re

import pytest
from fastapi.testclient import TestClient

from broadcaster.surfaces import render_documents, take_snapshot
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.integration.uptime_data import MIDNIGHT, NOW, OBSERVED, seeded_history


@pytest.fixture
def live(database_url):
    return make_settings(database_url, public_cache_seconds=0, timezone="UTC",
                         status_page_url="https://status.example.com")


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
    app = create_public_app(live)
    # Its cache's clock too: NOW is noon of the day this module was imported, and a run that crosses
    # midnight rendered the served page a day on from the one above (every bar a date later).
    app.state.surface_cache.wall_clock = lambda: NOW
    with TestClient(app) as client:
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
