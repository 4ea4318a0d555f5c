"""Approval you cannot get around: four eyes over every writer, the policy of the incident's
highest impact, admins alone grant roles, approvals sealed with a key outside the database,
an append-only log that TRUNCATE cannot empty, and no version left stranded."""

import threading

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from broadcaster.approvals import decisions
from broadcaster.delivery import sendlog
from broadcaster.delivery.chunk import send_now
from broadcaster.domain.errors import IllegalTransition, InvalidInput, NotAllowed
from broadcaster.domain.hashing import sha256_of
from broadcaster.incidents import publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import users
from broadcaster.store.content import stored_content_hash
from broadcaster.store.db import engine_for, transaction
from broadcaster.store.models import Approval, AuditEvent, Delivery, Rendition, Statement, utcnow
from tests.conftest import actor, add_subscriber, add_user, make_settings

FIELDS = StatementInput(status="investigating", headline="Some customers cannot log in",
                        body="About 1 in 5 logins fail.", workaround="Use the mobile app", next_update="30m")


@pytest.fixture
def world(settings):
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    add_user(settings, "carol", ["author", "approver"])
    add_user(settings, "dave", ["approver"])
    add_subscriber(settings, email="c1@example.com", phone="+14155550123")
    return settings


def incident(settings, impact="major") -> int:
    return statements.open_incident(settings, actor(settings, "alice"), "Login failures", impact, ["Login"])["id"]


def approved(settings, incident_id, approvers=("bob",), fields=FIELDS) -> int:
    sid = statements.draft(settings, actor(settings, "alice"), incident_id, fields)["id"]
    statements.submit(settings, actor(settings, "alice"), sid)
    for name in approvers:
        decisions.approve(settings, actor(settings, name), sid)
    return sid


def state_of(settings, sid) -> str:
    return statements.get_statement(settings, sid)["state"]


def audit_rows(settings) -> list[AuditEvent]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


# --- four eyes ------------------------------------------------------------------------------


def test_whoever_edited_someone_elses_draft_cannot_approve_it(world):
    sid = statements.draft(world, actor(world, "alice"), incident(world), FIELDS)["id"]
    statements.edit(world, actor(world, "carol"), sid, StatementInput(body="All logins fail."))
    assert statements.get_statement(world, sid)["author"] == "alice"  # the author stays alice
    statements.submit(world, actor(world, "alice"), sid)

    with pytest.raises(NotAllowed, match="carol wrote or edited this statement and cannot approve it"):
        decisions.approve(world, actor(world, "carol"), sid)
    assert statements.get_statement(world, sid)["written_or_edited_by"] == ["alice", "carol"]
    decisions.approve(world, actor(world, "bob"), sid)
    assert state_of(world, sid) == "approved"


def test_whoever_edited_the_draft_a_version_came_from_cannot_approve_it(world):
    v1 = statements.draft(world, actor(world, "alice"), incident(world), FIELDS)["id"]
    statements.edit(world, actor(world, "carol"), v1, StatementInput(body="All logins fail."))
    statements.submit(world, actor(world, "alice"), v1)
    v2 = statements.edit(world, actor(world, "alice"), v1, StatementInput(headline="Nobody can log in"))["id"]
    statements.submit(world, actor(world, "alice"), v2)

    with pytest.raises(NotAllowed, match="carol wrote or edited this statement"):
        decisions.approve(world, actor(world, "carol"), v2)


def test_writers_of_an_unapproved_latest_version_carry_over_to_the_next_draft(world):
    incident_id = incident(world)
    statements.draft(world, actor(world, "carol"), incident_id, FIELDS)  # carol's words, never approved
    v2 = statements.draft(world, actor(world, "alice"), incident_id, StatementInput(status="identified"))["id"]
    statements.submit(world, actor(world, "alice"), v2)

    with pytest.raises(NotAllowed, match="carol wrote or edited"):
        decisions.approve(world, actor(world, "carol"), v2)


def test_an_approver_who_wrote_nothing_of_a_version_may_approve_the_next(world):
    incident_id = incident(world)
    v1 = approved(world, incident_id, approvers=("carol",))
    publishing.publish(world, actor(world, "alice"), v1, dispatch=send_now)
    v2 = approved(world, incident_id, approvers=("carol",), fields=StatementInput(status="identified"))
    assert state_of(world, v2) == "approved"


# --- the policy follows the incident's highest impact ---------------------------------------


def test_drafting_a_minor_impact_on_a_critical_incident_still_needs_two_approvals(world):
    incident_id = incident(world, "critical")
    sid = statements.draft(world, actor(world, "alice"), incident_id, FIELDS.merged_over(
        StatementInput(impact="minor")))["id"]
    assert statements.submit(world, actor(world, "alice"), sid)["approvals_needed"] == 2

    assert decisions.approve(world, actor(world, "bob"), sid)["state"] == "pending_approval"
    with pytest.raises(IllegalTransition, match="it is waiting for approval"):
        publishing.publish(world, actor(world, "alice"), sid, dispatch=send_now)
    assert decisions.approve(world, actor(world, "dave"), sid)["state"] == "approved"


def test_once_critical_an_incident_needs_two_approvals_after_its_impact_was_lowered(world):
    incident_id = incident(world, "major")
    v1 = approved(world, incident_id, approvers=("bob", "dave"), fields=StatementInput(
        impact="critical", **FIELDS.model_dump(exclude_none=True)))
    publishing.publish(world, actor(world, "alice"), v1, dispatch=send_now)
    v2 = approved(world, incident_id, approvers=("bob", "dave"), fields=StatementInput(impact="minor"))
    publishing.publish(world, actor(world, "alice"), v2, dispatch=send_now)  # lowering it took two
    assert statements.list_incidents(world)[0]["impact"] == "minor"

    v3 = approved(world, incident_id, approvers=("bob",), fields=StatementInput(status="monitoring"))
    assert (state_of(world, v3), statements.preview(world, v3)["statement"]["impact"]) == ("pending_approval",
                                                                                           "minor")


def test_publish_counts_approvals_by_the_highest_impact_too(world):
    """A row set to `approved` with one approval behind the app's back is still refused."""
    incident_id = incident(world, "critical")
    sid = approved(world, incident_id, approvers=("bob",), fields=FIELDS.merged_over(StatementInput(impact="minor")))
    with transaction(world.database_url) as s:
        s.execute(update(Statement).where(Statement.id == sid).values(state="approved"))

    with pytest.raises(NotAllowed, match="has 1 valid approval\\(s\\) .*, needs 2"):
        publishing.publish(world, actor(world, "alice"), sid, dispatch=send_now)


# --- who can grant roles ---------------------------------------------------------------------


def test_the_first_user_must_be_an_admin(settings):
    with pytest.raises(InvalidInput, match="the first user must be an admin .*: add alice with --role admin"):
        users.add_user(settings, None, "alice", ["author", "approver"])
    users.add_user(settings, None, "root", ["admin"])
    assert [(row.action, row.actor_id) for row in audit_rows(settings)] == [("add first admin", 1)]


def test_once_an_admin_exists_only_an_admin_adds_users(world):
    with pytest.raises(NotAllowed, match="only an admin can add users: say who you are with --as ADMIN"):
        users.add_user(world, None, "mallory", ["approver"])
    with pytest.raises(NotAllowed, match="alice cannot manage users: needs role admin"):
        users.add_user(world, actor(world, "alice"), "mallory", ["approver"])

    assert "mallory" not in {u["name"] for u in users.list_users(world)}
    refused = [row for row in audit_rows(world) if row.action == "refused: manage users"]
    assert [row.actor_id for row in refused] == [actor(world, "alice").id]


def test_only_an_admin_changes_roles_and_the_last_admin_stays_one(world):
    with pytest.raises(NotAllowed, match="alice cannot manage users"):
        users.set_roles(world, actor(world, "alice"), "alice", ["author", "approver"])
    with pytest.raises(NotAllowed, match="root is the last admin: make someone else admin first"):
        users.set_roles(world, actor(world, "root"), "root", ["approver"])

    assert users.set_roles(world, actor(world, "root"), "alice", ["author", "approver"])["roles"] == [
        "approver", "author"]


@pytest.mark.parametrize("round_", range(3))
def test_two_admins_demoting_each_other_at_once_leave_one_admin(world, round_):
    """Each sees two admins if each counts only its own target: both would commit, and no admin would be
    left to add users or fix roles. The admins are counted with every user row locked: the second is refused."""
    add_user(world, "ada", ["admin"])
    together, outcomes = threading.Barrier(2), {}

    def demote(me: str, other: str) -> None:
        together.wait(timeout=30)
        try:
            users.set_roles(world, actor(world, me), other, ["approver"])
            outcomes[me] = "demoted"
        except NotAllowed as refusal:
            outcomes[me] = str(refusal)

    threads = [threading.Thread(target=demote, args=pair) for pair in (("root", "ada"), ("ada", "root"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    admins = [u["name"] for u in users.list_users(world) if "admin" in u["roles"]]
    assert len(admins) == 1 and list(outcomes.values()).count("demoted") == 1, outcomes
    [refusal] = [outcome for outcome in outcomes.values() if outcome != "demoted"]
    assert "last admin" in refusal or "cannot manage users" in refusal  # counted the admins, or had just lost the role


def test_every_audit_row_names_its_actor(world):
    approved(world, incident(world))
    users.set_roles(world, actor(world, "root"), "alice", ["author"])
    rows = audit_rows(world)
    assert {"add first admin", "add user", "set roles", "draft", "submit", "approve"} <= {r.action for r in rows}
    assert [r.action for r in rows if r.actor_id is None] == []


# --- sealed approvals ------------------------------------------------------------------------


def rewrite_sms_and_recompute_every_hash(settings, sid, text_="Example Co: all fine, ignore the outage") -> str:
    """What someone with write access to the database can do: new words, every SHA-256 to match."""
    with transaction(settings.database_url) as s:
        rendition = s.scalar(select(Rendition).where(Rendition.statement_id == sid, Rendition.channel == "sms"))
        rendition.fields = {**rendition.fields, "text": text_}
        rendition.content_hash = sha256_of(rendition.fields)
        s.flush()
        statement = s.get(Statement, sid)
        s.refresh(statement, ["renditions"])
        forged = stored_content_hash(statement)
        statement.content_hash = forged
        s.execute(update(Approval).where(Approval.statement_id == sid).values(content_hash=forged))
    return forged


def test_rewritten_words_with_every_hash_recomputed_are_refused_at_publish_and_audited(world):
    sid = approved(world, incident(world))
    rewrite_sms_and_recompute_every_hash(world, sid)

    with pytest.raises(NotAllowed, match=r"approval \d+ has no valid seal"):
        publishing.publish(world, actor(world, "alice"), sid, dispatch=send_now)

    assert state_of(world, sid) == "approved"
    refused = [r for r in audit_rows(world) if r.action == "refused: publish"]
    assert len(refused) == 1 and "no valid seal" in refused[0].detail["reason"]
    assert refused[0].actor_id == actor(world, "alice").id


def test_an_inserted_approval_row_is_refused_at_publish(world):
    sid = approved(world, incident(world, "critical"), approvers=("bob",))
    with transaction(world.database_url) as s:
        statement = s.get(Statement, sid)
        s.execute(insert(Approval).values(statement_id=sid, approver_id=actor(world, "dave").id, decision="approve",
                                          content_hash=statement.content_hash, comment="", created_at=utcnow(),
                                          seal="0" * 64))
        statement.state = "approved"

    with pytest.raises(NotAllowed, match="no valid seal"):
        publishing.publish(world, actor(world, "alice"), sid, dispatch=send_now)


def test_an_approval_sealed_under_another_key_is_refused(world):
    sid = approved(world, incident(world))
    other_key = make_settings(world.database_url, secret_key="a different key")

    with pytest.raises(NotAllowed, match="no valid seal"):
        publishing.publish(other_key, actor(world, "alice"), sid, dispatch=send_now)


def test_rewritten_words_with_a_forged_approval_are_refused_at_send(world):
    sid = approved(world, incident(world))
    held: list[int] = []
    publishing.publish(world, actor(world, "alice"), sid, dispatch=lambda _s, ids: held.extend(ids))
    forged = rewrite_sms_and_recompute_every_hash(world, sid)
    with transaction(world.database_url) as s:  # and a fresh approval row for the new hash, too
        s.execute(insert(Approval).values(statement_id=sid, approver_id=actor(world, "dave").id, decision="approve",
                                          content_hash=forged, comment="", created_at=utcnow(), seal="f" * 64))

    send_now(world, held)

    with transaction(world.database_url) as s:
        sent = dict(s.execute(select(Delivery.channel, Delivery.status).where(Delivery.statement_id == sid)).all())
        codes = set(s.scalars(select(Delivery.error_code).where(Delivery.statement_id == sid)))
    assert set(sent.values()) == {"failed"} and codes == {"tampered"}
    assert not [e for e in sendlog.send_log(world, statement_id=sid) if e["status"] in ("sent", "simulated")]


# --- append-only for real --------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["TRUNCATE audit_events", "TRUNCATE delivery_events CASCADE",
                                       "TRUNCATE deliveries CASCADE"])
def test_truncate_of_the_send_log_or_the_audit_trail_is_refused(world, backend, statement):
    if backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE is refused by the row triggers")
    approved(world, incident(world))
    before = len(audit_rows(world))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine_for(world.database_url).begin() as connection:
            connection.execute(text(statement))
    assert len(audit_rows(world)) == before


# --- no stranded versions --------------------------------------------------------------------


@pytest.mark.parametrize("approvers, was", [(None, "draft"), ((), "pending_approval"), (("bob",), "approved")])
def test_a_new_draft_voids_older_unpublished_versions_and_says_so(world, approvers, was):
    incident_id = incident(world)
    v1 = statements.draft(world, actor(world, "alice"), incident_id, FIELDS)["id"]
    if approvers is not None:
        statements.submit(world, actor(world, "alice"), v1)
        for name in approvers:
            decisions.approve(world, actor(world, name), v1)

    v2 = statements.draft(world, actor(world, "alice"), incident_id, StatementInput(status="identified"))

    assert v2["voided"] == [{"id": v1, "version": 1, "was": was}]
    assert state_of(world, v1) == "withdrawn"


def test_editing_a_published_statement_makes_a_new_draft_and_the_live_one_stays_live(world):
    incident_id = incident(world)
    v1 = approved(world, incident_id)
    publishing.publish(world, actor(world, "alice"), v1, dispatch=send_now)

    v2 = statements.edit(world, actor(world, "alice"), v1, StatementInput(status="identified"))

    assert (v2["version"], v2["state"], v2["voided"], v2["live"]) == (2, "draft", [], {"id": v1, "version": 1})
    assert state_of(world, v1) == "published"


def test_published_deliveries_each_carry_a_random_link_nonce(world):
    sid = approved(world, incident(world))
    add_subscriber(world, email="c2@example.com")
    publishing.publish(world, actor(world, "alice"), sid, dispatch=lambda _s, ids: None)
    with transaction(world.database_url) as s:
        nonces = list(s.scalars(select(Delivery.link_nonce).where(Delivery.statement_id == sid)))
    assert len(nonces) >= 4 and None not in nonces and len(set(nonces)) == len(nonces)


def test_the_readme_role_may_insert_and_select_the_evidence_but_not_change_it(world, backend):
    """The GRANTs of the documentation's "A database role for the app" (docs/operations/security.md),
    run as written."""
    import re
    import uuid
    from pathlib import Path

    from sqlalchemy.engine import make_url

    if backend != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    page = (Path(__file__).parents[2] / "docs" / "operations" / "security.md").read_text()
    sql = re.search(r"## A database role for the app.*?```sql\n(.*?)```", page, re.S).group(1)
    role, url = f"app_{uuid.uuid4().hex[:8]}", make_url(world.database_url)
    sql = sql.replace("broadcaster_app", role).replace("DATABASE broadcaster", f'DATABASE "{url.database}"')
    approved(world, incident(world))
    with engine_for(world.database_url).begin() as connection:
        for statement in filter(str.strip, re.sub(r"--[^\n]*", "", sql).split(";")):
            connection.execute(text(statement.replace("'...'", "'pw'")))
    app = engine_for(url.set(username=role, password="pw").render_as_string(hide_password=False))
    try:
        with app.begin() as connection:
            connection.execute(text("INSERT INTO audit_events (actor_id, action, subject, detail, created_at) "
                                    "VALUES (1, 'probe', 'x', '{}', now())"))
            assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() > 1
            connection.execute(text("UPDATE statements SET body = body"))  # the working tables stay writable
            for table in ("web_sessions", "api_tokens", "approval_requests", "holding_links", "fan_outs"):
                connection.execute(text(f"DELETE FROM {table} WHERE id < 0"))  # the web app's too: a login works
        for forbidden in ("UPDATE audit_events SET action = 'x'", "DELETE FROM delivery_events",
                          "UPDATE alembic_version SET version_num = version_num",
                          "TRUNCATE audit_events", "DROP TRIGGER audit_events_no_truncate ON audit_events"):
            with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                with app.begin() as connection:
                    connection.execute(text(forbidden))
    finally:
        app.dispose()
        with engine_for(world.database_url).begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))
