"""A statement's times, end to end: the next update a new version inherits, and the zone
every channel shows it in. On SQLite and PostgreSQL alike."""

from datetime import timedelta

import pytest

from broadcaster.domain.errors import InvalidInput
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.models import utcnow
from tests.conftest import actor, add_user, make_settings

FIELDS = StatementInput(status="investigating", headline="Some customers cannot log in",
                        body="About 1 in 5 logins fail.", next_update="30m")


@pytest.fixture
def incident(settings):
    add_user(settings, "alice", ["author"])
    return statements.open_incident(settings, actor(settings, "alice"), "Login failures", "major", ["Login"])["id"]


def test_a_new_version_inheriting_a_next_update_already_past_is_refused(settings, incident):
    statements.draft(settings, actor(settings, "alice"), incident, FIELDS)

    with pytest.raises(InvalidInput, match=r"next update: the previous version promised an update by .* which has "
                                           r"passed; give a new one \(e.g. --next-update 30m\)"):
        statements.draft(settings, actor(settings, "alice"), incident, StatementInput(status="identified"),
                         now=utcnow() + timedelta(hours=1))


def test_a_new_version_may_drop_a_past_next_update_by_saying_none_or_by_resolving(settings, incident):
    statements.draft(settings, actor(settings, "alice"), incident, FIELDS)
    later = utcnow() + timedelta(hours=1)

    alice = actor(settings, "alice")
    none = statements.draft(settings, alice, incident, StatementInput(status="identified", next_update="none"),
                            now=later)
    resolved = statements.draft(settings, alice, incident, StatementInput(status="resolved", resolution="Fixed."),
                                now=later)

    assert none["next_update_at"] is None and none["status"] == "identified"
    assert resolved["next_update_at"] is None


def test_a_new_version_keeps_a_next_update_still_ahead(settings, incident):
    first = statements.draft(settings, actor(settings, "alice"), incident, FIELDS)

    second = statements.draft(settings, actor(settings, "alice"), incident, StatementInput(status="identified"))

    assert second["next_update_at"] == first["next_update_at"]


def test_preview_shows_times_in_the_configured_zone(database_url, incident):
    settings = make_settings(database_url, timezone="Asia/Tokyo")
    statement = statements.draft(settings, actor(settings, "alice"), incident, FIELDS)

    sms = statements.preview(settings, statement["id"])["channels"]["sms"]["text"]

    assert " JST." in sms and " UTC." not in sms
