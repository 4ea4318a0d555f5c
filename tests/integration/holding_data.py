"""A holding statement as calm times leave it: written by one user, approved by another, with next
update 'none' (ready to keep)."""

from broadcaster.approvals import decisions
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from tests.conftest import actor

HEADLINE = "We are aware of problems logging in"


def approved_holding_statement(settings, author: str = "alice", approver: str = "bob") -> int:
    """The id of an approved statement of a new incident nobody sees yet."""
    writer = actor(settings, author)
    incident = statements.open_incident(settings, writer, "Login problems", "major", ["Login"])
    draft = statements.draft(settings, writer, incident["id"], StatementInput(
        headline=HEADLINE, body="Next update within 30 minutes.", next_update="none"))
    submitted = statements.submit(settings, writer, draft["id"])
    decisions.approve(settings, actor(settings, approver), draft["id"], submitted["content_hash"])
    return draft["id"]
