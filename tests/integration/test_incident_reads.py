"""An incident's page (the dashboard's statement, editor and postmortem pages, the API's
`GET /incidents/{id}`) reads that incident alone: it used to read every incident there is to find one,
a page that slowed with every incident of the installation's history."""

import pytest
from sqlalchemy import event

from broadcaster.domain.errors import NotFound
from broadcaster.incidents import statements
from broadcaster.store.db import engine_for
from broadcaster.web.dashboard.common import incident_of
from tests.conftest import actor, add_user


def test_an_incident_is_read_by_its_id_alone(settings):
    add_user(settings, "alice", ["author"])
    alice = actor(settings, "alice")
    opened = [statements.open_incident(settings, alice, f"Outage {n}", "minor", ["API"]) for n in range(3)]
    engine, read = engine_for(settings.database_url), []

    def count(_connection, _cursor, statement, *_):
        if "FROM incidents" in statement:
            read.append(" ".join(statement.split()))
    event.listen(engine, "before_cursor_execute", count)
    try:
        middle = incident_of(settings, opened[1]["id"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (middle["id"], middle["title"]) == (opened[1]["id"], "Outage 1")
    assert read and all("WHERE incidents.id =" in query for query in read), read
    with pytest.raises(NotFound, match=f"incident {opened[-1]['id'] + 1} does not exist"):
        incident_of(settings, opened[-1]["id"] + 1)
