"""A year of incidents, fast: resolved incidents with three published-then-superseded versions each,
written as bulk inserts through the models (the use cases one by one would take minutes for 2,000). The
reads that must not grow with an installation's history are measured and tested on these rows."""

from datetime import timedelta

from sqlalchemy import func, insert, select, text

from broadcaster.store.db import transaction
from broadcaster.store.models import Incident, Statement, User, utcnow

VERSIONS = 3


def add_history(settings, incidents: int, author: str = "alice") -> list[int]:
    """`incidents` resolved incidents, oldest first, each with VERSIONS statements (the last published);
    returns their ids."""
    with transaction(settings.database_url) as s:
        author_id = s.scalar(select(User.id).where(User.name == author))
        first = (s.scalar(select(func.max(Incident.id))) or 0) + 1
        start = utcnow() - timedelta(days=365)
        ids = list(range(first, first + incidents))
        s.execute(insert(Incident), [
            {"id": n, "title": f"Outage {n}", "impact": "minor", "status": "resolved", "components": ["API"],
             "opened_by_id": author_id, "created_at": start + timedelta(hours=n), "resolved_at": start +
             timedelta(hours=n, minutes=30), "highest_impact": "minor", "kind": "incident"} for n in ids])
        s.execute(insert(Statement), [
            {"incident_id": n, "version": v, "state": "published" if v == VERSIONS else "superseded",
             "status": "resolved" if v == VERSIONS else "investigating", "impact": "minor", "components": ["API"],
             "headline": f"Outage {n}, version {v}", "body": "It is fixed.", "workaround": "",
             "author_id": author_id, "created_at": start + timedelta(hours=n, minutes=v),
             "published_at": start + timedelta(hours=n, minutes=v)} for n in ids for v in range(1, VERSIONS + 1)])
    if settings.database_url.startswith("postgresql"):
        _move_sequences(settings)
    return ids


def _move_sequences(settings) -> None:
    # Explicit ids leave PostgreSQL's sequences behind: the next incident opened would take a used id.
    with transaction(settings.database_url) as s:
        for table in ("incidents", "statements"):
            s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
