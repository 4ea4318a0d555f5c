"""Published statements for the public-surface tests, made through the real use cases: drafted,
submitted (rendered through templates/), approved and published, the live surfaces switched."""

from sqlalchemy import select

from broadcaster.approvals import decisions
from broadcaster.config import Settings
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import users
from broadcaster.store.db import transaction
from broadcaster.store.models import Rendition
from tests.conftest import actor, add_user

USERS = (("alice", "author"), ("bob", "approver"), ("carol", "approver"))


def ensure_users(settings: Settings) -> None:
    existing = {u["name"] for u in users.list_users(settings)}
    for name, role in USERS:
        if name not in existing:
            add_user(settings, name, [role])


def open_incident(settings: Settings, title: str = "Login failures", impact: str = "major",
                  components: tuple[str, ...] = ("Login",)) -> int:
    ensure_users(settings)
    return statements.open_incident(settings, actor(settings, "alice"), title, impact, list(components))["id"]


def publish_update(settings: Settings, incident_id: int, status: str = "investigating",
                   headline: str = "Some customers cannot log in", body: str = "About 1 in 5 logins fail.",
                   dispatch=None, **fields) -> int:
    """Draft → submit → approve (twice when critical) → publish; returns the statement id.
    Without `dispatch` the deliveries are sent in this process, so the live surfaces switch. A
    resolved statement's resolution line is its headline unless one is given."""
    ensure_users(settings)
    if status == "resolved":
        fields.setdefault("resolution", headline)
    statement = statements.draft(settings, actor(settings, "alice"), incident_id, StatementInput(
        status=status, headline=headline, body=body, workaround=fields.pop("workaround", "Use the mobile app"),
        next_update=None if status == "resolved" else fields.pop("next_update", "30m"), **fields))
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    decisions.approve(settings, actor(settings, "bob"), statement["id"])
    if statements.get_statement(settings, statement["id"])["state"] != "approved":
        decisions.approve(settings, actor(settings, "carol"), statement["id"])
    publishing.publish(settings, actor(settings, "alice"), statement["id"], dispatch=dispatch or send_now)
    return statement["id"]


def rendition(settings: Settings, statement_id: int, channel: str) -> dict[str, str]:
    """The stored words of one channel, as approved."""
    with transaction(settings.database_url) as s:
        return dict(s.scalar(select(Rendition.fields).where(Rendition.statement_id == statement_id,
                                                            Rendition.channel == channel, Rendition.locale == "")))
