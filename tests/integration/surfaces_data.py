"""Published statements for the public-surface tests, made through the real use cases: drafted,
submitted (rendered through templates/), approved and published, the live surfaces switched."""

from sqlalchemy import select

from broadcaster.approvals import decisions
from broadcaster.config import Settings
from broadcaster.delivery.chunk import send_now
from broadcaster.domain.approval import Actor
from broadcaster.domain.errors import NotFound
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
    if status == "resolved":
        fields.setdefault("resolution", headline)
    # alice is looked up once for the three steps she takes (each lookup is a transaction of its own,
    # and the flow runs in hundreds of tests); the approval says itself whether it was the last needed.
    alice = _user(settings, "alice")
    statement = statements.draft(settings, alice, incident_id, StatementInput(
        status=status, headline=headline, body=body, workaround=fields.pop("workaround", "Use the mobile app"),
        next_update=None if status == "resolved" else fields.pop("next_update", "30m"), **fields))
    statements.submit(settings, alice, statement["id"])
    if decisions.approve(settings, _user(settings, "bob"), statement["id"])["state"] != "approved":
        decisions.approve(settings, _user(settings, "carol"), statement["id"])
    publishing.publish(settings, alice, statement["id"], dispatch=dispatch or send_now)
    return statement["id"]


def _user(settings: Settings, name: str) -> Actor:
    """One of USERS as an actor; they are all added first if they are not there yet."""
    try:
        return actor(settings, name)
    except NotFound:
        ensure_users(settings)
        return actor(settings, name)


def rendition(settings: Settings, statement_id: int, channel: str) -> dict[str, str]:
    """The stored words of one channel, as approved."""
    with transaction(settings.database_url) as s:
        return dict(s.scalar(select(Rendition.fields).where(Rendition.statement_id == statement_id,
                                                            Rendition.channel == channel, Rendition.locale == "")))
