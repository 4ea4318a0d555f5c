"""Scheduled maintenance: approved like any statement, shown ahead of time, its start and end
notices published at their times."""

import json
from datetime import timedelta

import jsonschema
import pytest

from broadcaster.approvals import decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.domain.errors import InvalidInput
from broadcaster.incidents import maintenance, publishing
from broadcaster.store.models import utcnow
from broadcaster.surfaces import render_documents, take_snapshot
from tests.conftest import actor
from tests.integration.statuspage_schema import SCHEMAS
from tests.integration.surfaces_data import ensure_users


def api(settings, name):
    """One Statuspage document; every one of them is checked against Statuspage's schema first."""
    documents = render_documents(settings, take_snapshot(settings))
    for path, schema in SCHEMAS.items():
        jsonschema.validate(json.loads(documents[f"api/v2/{path}"].body), schema)
    return json.loads(documents[f"api/v2/{name}"].body)


def status_page(settings) -> str:
    return render_documents(settings, take_snapshot(settings))["status/index.html"].body.decode()


def approve_all(settings, ids):
    for statement_id in ids.values():
        decisions.approve(settings, actor(settings, "bob"), statement_id)


def test_a_maintenance_is_shown_ahead_then_in_progress_then_completed(settings):
    ensure_users(settings)
    start = utcnow() + timedelta(hours=2)
    end = start + timedelta(hours=1)
    scheduled = maintenance.schedule(settings, actor(settings, "alice"), "Database upgrade", start, end,
                                     ["Database"], "Saving may be slow for a few minutes.")
    ids = scheduled["statements"]
    assert maintenance.publish_due(settings, now=end + timedelta(minutes=1), dispatch=send_now) == []  # unapproved
    approve_all(settings, ids)
    publishing.publish(settings, actor(settings, "alice"), ids["scheduled"], dispatch=send_now)

    upcoming = api(settings, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert [m["name"] for m in upcoming] == ["Database upgrade"]
    assert upcoming[0]["status"] == "scheduled" and upcoming[0]["impact"] == "maintenance"
    assert upcoming[0]["scheduled_for"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    assert api(settings, "scheduled-maintenances/active.json")["scheduled_maintenances"] == []
    assert api(settings, "incidents.json")["incidents"] == []  # a maintenance is not an incident
    assert "Scheduled maintenance" in status_page(settings) and "Database upgrade" in status_page(settings)
    assert api(settings, "status.json")["status"]["indicator"] == "none"

    assert maintenance.publish_due(settings, now=start - timedelta(minutes=1), dispatch=send_now) == []
    assert maintenance.publish_due(settings, now=start + timedelta(minutes=1), dispatch=send_now) == \
        [ids["in_progress"]]
    active = api(settings, "scheduled-maintenances/active.json")["scheduled_maintenances"]
    assert [m["status"] for m in active] == ["in_progress"]
    assert api(settings, "status.json")["status"]["indicator"] == "maintenance"
    components = {c["name"]: c["status"] for c in api(settings, "components.json")["components"]}
    assert components == {"Database": "under_maintenance"}

    assert maintenance.publish_due(settings, now=end + timedelta(minutes=1), dispatch=send_now) == [ids["completed"]]
    assert api(settings, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"] == []
    assert api(settings, "scheduled-maintenances/active.json")["scheduled_maintenances"] == []
    assert api(settings, "scheduled-maintenances.json")["scheduled_maintenances"][0]["status"] == "completed"
    assert {c["name"]: c["status"] for c in api(settings, "components.json")["components"]} == \
        {"Database": "operational"}
    assert maintenance.publish_due(settings, now=end + timedelta(hours=1), dispatch=send_now) == []  # once


def test_a_window_in_the_past_or_backwards_is_refused(settings):
    ensure_users(settings)
    now = utcnow()
    with pytest.raises(InvalidInput, match="has passed"):
        maintenance.schedule(settings, actor(settings, "alice"), "X", now - timedelta(hours=1), now, [], "B")
    with pytest.raises(InvalidInput, match="must come after the start"):
        maintenance.schedule(settings, actor(settings, "alice"), "X", now + timedelta(hours=2),
                             now + timedelta(hours=1), [], "B")
    with pytest.raises(InvalidInput, match="has no zone"):
        maintenance.parse_time("2026-11-24T02:00", "--start")


def test_the_beat_runs_the_maintenance_task_every_sweep_interval():
    import workers.tasks  # noqa: F401 - registers the tasks
    from broadcaster.config import Settings
    from broadcaster.delivery.broker import TaskName, make_app
    from workers.app import celery_app

    entry = make_app(Settings(_env_file=None, sweep_interval_seconds=7)).conf.beat_schedule["maintenance"]
    assert (entry["task"], entry["schedule"]) == (TaskName.MAINTENANCE_DUE, 7)
    assert TaskName.MAINTENANCE_DUE in celery_app.tasks


def test_a_maintenance_says_its_window_and_in_spanish_too(database_url):
    """Every phase's words carry the window with its day (the scheduled SMS names it); upcoming.json
    has not started before it starts; a Spanish reader gets the Spanish title and dates."""
    from tests.conftest import make_settings
    from tests.integration.surfaces_data import rendition

    settings = make_settings(database_url, locales=["es"], timezone="Asia/Tokyo")  # no summer time to dodge
    ensure_users(settings)
    start = (utcnow() + timedelta(days=3)).replace(hour=7, minute=0, second=0, microsecond=0)
    scheduled = maintenance.schedule(
        settings, actor(settings, "alice"), "Database upgrade", start, start + timedelta(hours=2), ["Database"],
        "Saving may be slow for a few minutes.",
        translations={"es": {"headline": "Actualización de la base de datos",
                             "body": "Guardar puede ir lento unos minutos."}})
    ids = scheduled["statements"]
    approve_all(settings, ids)
    publishing.publish(settings, actor(settings, "alice"), ids["scheduled"], dispatch=send_now)
    sms = rendition(settings, ids["scheduled"], "sms")["text"]
    assert sms.startswith("Example Co - Scheduled maintenance: Database upgrade, ")
    assert "16:00 - 18:00 JST. Saving may be slow" in sms  # the window, with its day, in GSM-7
    assert rendition(settings, ids["scheduled"], "email")["subject"].startswith(
        "[Scheduled maintenance] Database upgrade, ")  # said once, not "Scheduled: Scheduled maintenance:"
    assert "We have planned maintenance: Database upgrade." in rendition(settings, ids["scheduled"], "ivr")["script"]
    upcoming = api(settings, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"][0]
    assert upcoming["started_at"] == upcoming["scheduled_for"]  # not the moment it was scheduled
    spanish = render_documents(settings, take_snapshot(settings))["es/status/index.html"].body.decode()
    assert "<h3>Actualización de la base de datos</h3>" in spanish and "Mantenimiento programado" in spanish
    assert "16:00–18:00 JST" in spanish
