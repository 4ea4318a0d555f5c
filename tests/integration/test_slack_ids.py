"""A user's Slack member id, which approval from Slack maps a click to: set by an admin from the CLI, the
API and the admin page; checked against Slack's pattern, one member per user, audited, refused to others."""

import pytest
from sqlalchemy import select

from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.people import auth, users
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from tests.conftest import actor, add_user
from tests.integration.api_fixtures import install
from tests.integration.test_cli import run  # noqa: F401 - the CLI fixture
from tests.integration.test_dashboard import PASSWORD, log_in


@pytest.fixture
def backend() -> str:
    return "sqlite"  # a column and its unique index; the migration runs on both backends in test_store


def audit(settings, action: str) -> list[AuditEvent]:
    with transaction(settings.database_url) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        s.expunge_all()
        return rows


def test_an_admin_maps_a_user_to_one_slack_member_and_clears_it(settings):
    add_user(settings, "bob", ["approver"])
    add_user(settings, "carol", ["approver"])
    root = actor(settings, "root")
    assert users.set_slack_id(settings, root, "bob", " ubob000001 ")["slack_user_id"] == "UBOB000001"
    assert next(u for u in users.list_users(settings) if u["name"] == "bob")["slack_user_id"] == "UBOB000001"
    with pytest.raises(InvalidInput, match="already bob's; one Slack member speaks for one user"):
        users.set_slack_id(settings, root, "carol", "UBOB000001")
    with pytest.raises(InvalidInput, match="is not a Slack member id"):
        users.set_slack_id(settings, root, "carol", "@carol")
    assert users.set_slack_id(settings, root, "bob", None)["slack_user_id"] is None
    assert [e.detail["to"] for e in audit(settings, "set slack id")] == ["UBOB000001", None]


def test_only_an_admin_maps_slack_members_and_a_refusal_is_audited(settings):
    add_user(settings, "bob", ["approver"])
    with pytest.raises(NotAllowed, match="bob cannot manage users"):
        users.set_slack_id(settings, actor(settings, "bob"), "bob", "UBOB000001")
    assert audit(settings, "refused: manage users")[-1].actor_id == actor(settings, "bob").id
    assert next(u for u in users.list_users(settings) if u["name"] == "bob")["slack_user_id"] is None


def test_the_cli_sets_and_lists_a_slack_member_id(run):  # noqa: F811
    run("init")
    run("user", "add", "root", "--role", "admin")
    run("user", "add", "bob", "--role", "approver", "--as", "root")
    assert "user 2: bob is UBOB000001 in Slack" in run("user", "slack", "bob", "UBOB000001", "--as", "root").stdout
    assert "UBOB000001" in run("user", "list").stdout
    refused = run("user", "slack", "bob", "UBOB000001", "--as", "bob", ok=False)
    assert refused.returncode != 0 and "bob cannot manage users" in refused.stderr
    assert "has no Slack member id" in run("user", "slack", "bob", "--as", "root").stdout


def test_the_api_sets_a_slack_member_id_by_its_pattern(settings):
    site = install(settings, dispatch=lambda settings, ids: None)
    admin = site.as_role("admin")
    set_ = site.client.put("/api/v1/users/bob/slack", json={"slack_user_id": "UBOB000001"}, headers=admin)
    assert set_.status_code == 200 and set_.json()["slack_user_id"] == "UBOB000001"
    listed = site.client.get("/api/v1/users", headers=admin).json()
    assert next(u for u in listed if u["name"] == "bob")["slack_user_id"] == "UBOB000001"
    bad = site.client.put("/api/v1/users/bob/slack", json={"slack_user_id": "bob"}, headers=admin)
    assert bad.status_code == 422 and "slack_user_id: String should match pattern" in bad.json()["detail"]
    schema = site.client.get("/openapi.json").json()["components"]["schemas"]["SlackIdIn"]
    assert "pattern" in str(schema["properties"]["slack_user_id"])


def test_the_admin_page_sets_a_slack_member_id(settings):
    site = install(settings, dispatch=lambda settings, ids: None)
    auth.set_password(settings, "root", PASSWORD)
    csrf = log_in(site.client, "root")
    page = site.client.get("/dashboard/admin")
    assert 'action="/dashboard/admin/users/slack"' in page.text
    done = site.client.post("/dashboard/admin/users/slack",
                            data={"csrf_token": csrf, "name": "bob", "slack_user_id": "UBOB000001"})
    assert "bob is UBOB000001 in Slack" in done.text
    refused = site.client.post("/dashboard/admin/users/slack",
                               data={"csrf_token": csrf, "name": "bob", "slack_user_id": "not-an-id"})
    assert "is not a Slack member id" in refused.text
