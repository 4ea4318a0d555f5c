"""The statement most approval tests start from: v1 of "Login failures", written and submitted by an
author, waiting for its approvers."""

from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from tests.conftest import actor


def submitted_v1(settings, author: str = "alice") -> int:
    """Opens "Login failures" and submits its v1 as `author` (a user already added); returns its id."""
    writer = actor(settings, author)
    incident = statements.open_incident(settings, writer, "Login failures", "major", ["Login"])
    draft = statements.draft(settings, writer, incident["id"], StatementInput(
        headline="Some customers cannot log in", body="About 1 in 5 logins fail.", next_update="30m"))
    statements.submit(settings, writer, draft["id"])
    return draft["id"]
