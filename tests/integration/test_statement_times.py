"""A statement's times, end to end: the next update a new version inherits, and the zone
every channel shows it in. On SQLite and PostgreSQL alike."""

from datetime import timedelta

import pytest

from broadcaster.approvals import decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.incidents import publishing, statements
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


def test_a_tomorrow_submitted_a_moment_before_midnight_is_refused_a_moment_after(settings, incident, monkeypatch):
    """Submit renders the words and stamps `submitted_at` at one moment, the one publish checks their
    "tomorrow" against: read twice, a midnight between the readings let "tomorrow at 00:20" go out
    on the day it names (the check compared it with a submission already on that day)."""
    add_user(settings, "bob", ["approver"])
    alice, midnight = actor(settings, "alice"), (utcnow() + timedelta(days=2)).replace(hour=0, minute=0, second=0,
                                                                                        microsecond=0)
    statement = statements.draft(settings, alice, incident, FIELDS, now=midnight - timedelta(minutes=10))
    # the product's clock ticking across midnight inside submit, then a minute into the new day at publish
    readings = iter([midnight - timedelta(milliseconds=1)])
    monkeypatch.setattr(statements, "utcnow", lambda: next(readings, midnight + timedelta(milliseconds=1)))
    statements.submit(settings, alice, statement["id"])
    decisions.approve(settings, actor(settings, "bob"), statement["id"])
    monkeypatch.setattr(publishing, "utcnow", lambda: midnight + timedelta(minutes=1))

    with pytest.raises(NotAllowed, match=r"the statement says the next update is 'tomorrow at 00:20 UTC', but today "
                                         r"that time is '00:20 UTC'"):
        publishing.publish(settings, alice, statement["id"], dispatch=send_now)
    assert statements.get_statement(settings, statement["id"])["state"] == "approved"
