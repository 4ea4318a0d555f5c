"""A seeded uptime history with known minutes, for the uptime tests and the browser's pictures:
statements drafted, approved and published through the real use cases, then their publication
times set to known moments."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import update

from broadcaster.approvals import decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import components, maintenance, publishing
from broadcaster.store.db import transaction
from broadcaster.store.models import Component, Incident, Statement, utcnow
from tests.conftest import actor
from tests.integration.surfaces_data import ensure_users, open_incident, publish_update

MIDNIGHT = datetime.combine(utcnow().date(), time(0), UTC)
NOW = MIDNIGHT + timedelta(hours=12)  # today has 720 minutes so far; the 89 days before it 1,440 each
OBSERVED = 89 * 1440 + 720


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
