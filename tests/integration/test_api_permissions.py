"""Every API endpoint × every role: allowed, or 403 from the permission table. One table."""

import pytest
from sqlalchemy import select

from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from tests.conftest import make_settings
from tests.integration.api_fixtures import copy_of, seed, seeded_file, serve

A, P, ADMIN, S = "author", "approver", "admin", "social"
EVERYONE = {A, P, ADMIN}  # every role that reads incidents and statements: the social team works its own queue
ROLES = [A, P, ADMIN, S]

# (method, path, json body, the roles that may call it). {s}: a statement waiting for approval,
# {i}: its incident, {h}: its content hash, {p}: a customer's post id.
TEMPLATE = {"name": "login-down", "title": "Login problems", "headline": "Some customers cannot log in",
            "body": "One login in five fails.", "resolution": "Logins work again.",
            "resolved_body": "It is fixed."}
ENDPOINTS = [
    ("GET", "/incidents", None, EVERYONE),
    ("POST", "/incidents", {"title": "Checkout down", "impact": "minor"}, {A, ADMIN}),
    ("GET", "/incidents/{i}", None, EVERYONE),
    ("POST", "/incidents/{i}/statements", {"headline": "H", "body": "B", "next_update": "30m"}, {A, ADMIN}),
    ("GET", "/statements", None, EVERYONE),
    ("POST", "/preview", {"incident_id": "{i}", "headline": "H", "body": "B", "next_update": "30m"}, EVERYONE),
    ("GET", "/statements/{s}", None, EVERYONE),
    ("PATCH", "/statements/{s}", {"headline": "Changed"}, {A, ADMIN}),
    ("GET", "/statements/{s}/preview", None, EVERYONE),
    ("POST", "/statements/{s}/submit", None, {A, ADMIN}),
    ("POST", "/statements/{s}/approve", {"content_hash": "{h}"}, {P}),
    ("POST", "/statements/{s}/reject", {"reason": "Too vague"}, {P}),
    ("POST", "/statements/{s}/withdraw", None, {A, ADMIN}),
    ("POST", "/statements/{s}/publish", None, {A, ADMIN}),
    ("POST", "/statements/{s}/retry", {"statuses": ["failed"]}, {A, ADMIN}),
    ("GET", "/statements/{s}/progress", None, EVERYONE),
    ("GET", "/send-log", None, EVERYONE),
    ("GET", "/send-log.csv", None, EVERYONE),
    ("GET", "/consistency", None, EVERYONE),
    ("GET", "/delivery-status", None, EVERYONE),
    ("GET", "/subscribers", None, {ADMIN}),
    ("POST", "/subscribers", {"email": "new@example.com"}, {ADMIN}),
    ("DELETE", "/subscribers/1", None, {ADMIN}),
    ("GET", "/me", None, EVERYONE | {S}),
    ("GET", "/roles", None, EVERYONE),
    ("GET", "/users", None, {ADMIN}),
    ("POST", "/users", {"name": "dave", "roles": ["author"]}, {ADMIN}),
    ("PUT", "/users/alice/roles", {"roles": ["author"]}, {ADMIN}),
    ("PUT", "/users/alice/slack", {"slack_user_id": "UALICE0001"}, {ADMIN}),
    ("GET", "/event-endpoints", None, {ADMIN}),
    ("POST", "/event-endpoints", {"url": "https://hooks.example.com/broadcaster"}, {ADMIN}),
    ("DELETE", "/event-endpoints/1", None, {ADMIN}),
    ("GET", "/tokens", None, {ADMIN}),
    ("POST", "/tokens", {"user": "alice", "role": "author"}, {ADMIN}),
    ("DELETE", "/tokens/1", None, {ADMIN}),
    ("GET", "/audit", None, {P, ADMIN}),
    ("GET", "/holding", None, EVERYONE),
    ("POST", "/holding", {"statement_id": "{s}"}, {A, ADMIN}),
    ("POST", "/holding/1/activate", None, EVERYONE),
    ("GET", "/social/inbox", None, {S, ADMIN}),
    ("POST", "/social/pull", None, {S, ADMIN}),
    ("POST", "/social/search", {"query": "login down"}, {S, ADMIN}),
    ("GET", "/social/variants", None, {S, ADMIN}),
    ("POST", "/social/posts/{p}/reply", {"variant": 1}, {S}),
    ("POST", "/social/posts/{p}/skip", None, {S}),
    ("POST", "/social/posts/{p}/free-text", {"text": "Try the mobile app"}, {S}),
    ("POST", "/social/posts/{p}/free-text/approve", {"content_hash": "{h}"}, {P}),
    ("GET", "/social/free-text", None, {P}),
    ("GET", "/social/replies", None, {S, ADMIN}),
    ("GET", "/social/budget", None, {S, ADMIN}),
    ("GET", "/holding/1/links", None, EVERYONE),
    ("POST", "/holding/1/links", {}, EVERYONE),
    ("DELETE", "/holding/1/links", None, EVERYONE),
    ("GET", "/templates", None, EVERYONE),
    ("POST", "/templates", TEMPLATE, {A, ADMIN}),
    ("GET", "/templates/1", None, EVERYONE),
    ("PUT", "/templates/1", TEMPLATE, {A, ADMIN}),
    ("DELETE", "/templates/1", None, {A, ADMIN}),
    ("POST", "/templates/1/statements", {}, {A, ADMIN}),
    ("GET", "/alerts/sources", None, EVERYONE),
    ("POST", "/alerts/sources", {"name": "prom", "kind": "alertmanager"}, {ADMIN}),
    ("POST", "/alerts/sources/prom/rotate", {}, {ADMIN}),
    ("DELETE", "/alerts/sources/prom", None, {ADMIN}),
    ("GET", "/alerts/rules", None, EVERYONE),
    ("POST", "/alerts/rules", {"name": "login", "template": "login-down"}, {A, ADMIN}),
    ("GET", "/alerts/rules/1", None, EVERYONE),
    ("PUT", "/alerts/rules/1", {"name": "login", "template": "login-down"}, {A, ADMIN}),
    ("DELETE", "/alerts/rules/1", None, {A, ADMIN}),
    ("GET", "/alerts/groups", None, EVERYONE),
    ("GET", "/incidents/{i}/postmortem", None, EVERYONE),
    ("PUT", "/incidents/{i}/postmortem", {"markdown": "What happened"}, {A, ADMIN}),
    ("POST", "/postmortems/preview", {"markdown": "What *happened*"}, EVERYONE),
    ("POST", "/postmortems/1/approve", {"content_hash": "{h}"}, {P}),
    ("POST", "/postmortems/1/publish", None, {A, ADMIN}),
    ("GET", "/stakeholders", None, {A, ADMIN}),
    ("POST", "/stakeholders", {"name": "leadership"}, {A, ADMIN}),
    ("GET", "/stakeholders/leadership", None, {A, ADMIN}),
    ("DELETE", "/stakeholders/leadership", None, {A, ADMIN}),
    ("POST", "/stakeholders/leadership/members", {"name": "Chris", "email": "ceo@example.com"}, {A, ADMIN}),
    ("DELETE", "/stakeholders/leadership/members/Chris", None, {A, ADMIN}),
    ("GET", "/agent-notes", None, EVERYONE),
    ("GET", "/agent-notes/{i}", None, EVERYONE),
]
POST_ID = "1860000000000000042"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # who may do what does not depend on the database; the flows run on both


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, sqlite_template):
    return seeded_file(tmp_path_factory, sqlite_template, seed)


@pytest.fixture
def settings(seeded, tmp_path):
    """A copy of the seeded installation's database for this case (hundreds of cases, one seeding)."""
    return make_settings(copy_of(seeded[0], tmp_path))


@pytest.fixture
def installation(settings, seeded):
    return serve(settings, seeded[1], dispatch=lambda settings, ids: None)


def _fill(value, installation):
    if isinstance(value, dict):
        return {k: _fill(v, installation) for k, v in value.items()}
    if isinstance(value, str):
        filled = value.format(s=installation.statement_id, i=installation.incident_id, h=installation.content_hash,
                              p=POST_ID)
        return int(filled) if value in ("{s}", "{i}") else filled
    return value


def test_the_table_covers_every_api_route(installation):
    routes = {(method, path.removeprefix("/api/v1"))
              for path, item in installation.client.app.openapi()["paths"].items() for method in item}
    table = {(method.lower(), path.replace("{i}", "{incident_id}").replace("{s}", "{statement_id}")
              .replace("/subscribers/1", "/subscribers/{subscriber_id}").replace("/tokens/1", "/tokens/{token_id}")
              .replace("/holding/1/", "/holding/{number}/").replace("/users/alice/", "/users/{name}/")
              .replace("{p}", "{post_id}").replace("/templates/1", "/templates/{template_id}")
              .replace("/alerts/rules/1", "/alerts/rules/{rule_id}")
              .replace("/alerts/sources/prom", "/alerts/sources/{name}")
              .replace("/postmortems/1/", "/postmortems/{postmortem_id}/")
              .replace("/leadership/members/Chris", "/{audience}/members/{name}")
              .replace("/stakeholders/leadership", "/stakeholders/{audience}")
              .replace("/event-endpoints/1", "/event-endpoints/{endpoint_id}"))
             for method, path, _, _ in ENDPOINTS}
    assert routes == table


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, body, roles", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_each_role_is_allowed_or_refused_by_the_table(settings, installation, role, method, path, body, roles):
    url = "/api/v1" + _fill(path, installation)
    response = installation.client.request(method, url, json=_fill(body, installation),
                                           headers=installation.as_role(role))
    if role in roles:
        # Allowed: whatever the statement's state makes of it (a 409, a rule's 403), never the role check.
        assert response.status_code < 500 and response.status_code != 401, response.text
        assert "needs role" not in response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "needs role" in response.json()["detail"]
        with transaction(settings.database_url) as s:
            assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())).startswith("refused: ")


@pytest.mark.parametrize("method, path, body, roles", ENDPOINTS[:3], ids=["list", "open", "get"])
def test_no_credentials_is_401_saying_how_to_authenticate(installation, method, path, body, roles):
    response = installation.client.request(method, "/api/v1" + _fill(path, installation), json=body)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
