"""Every dashboard page and form × every role: allowed, or refused from the permission table (and
audited), as the API is. One table; a test checks it names every dashboard route. And no
dashboard route answers 5xx to an id too large for any database."""

import re

import pytest
from sqlalchemy import select

from broadcaster import auth
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from tests.integration.api_fixtures import USERS, install

A, P, ADMIN, SOCIAL = "author", "approver", "admin", "social"
READERS = {A, P, ADMIN}
WRITERS = {A, ADMIN}

# (method, path, form, the roles that may use it). {s}: a statement waiting for approval, {i}: its incident,
# {p}: a customer's post.
PAGES = [
    ("GET", "/dashboard", None, READERS | {SOCIAL}),  # the social team lands on its own page
    ("POST", "/dashboard/incidents", {"title": "Checkout down", "impact": "minor"}, WRITERS),
    ("GET", "/dashboard/incidents/{i}", None, READERS),
    ("GET", "/dashboard/incidents/{i}/new", None, WRITERS),
    ("GET", "/dashboard/statements/{s}/edit", None, WRITERS),
    ("POST", "/dashboard/statements", {"incident_id": "{i}", "headline": "H", "body": "B", "next_update": "30m"},
     WRITERS),
    ("GET", "/dashboard/statements/{s}", None, READERS),
    ("POST", "/dashboard/statements/{s}/submit", {}, WRITERS),
    ("POST", "/dashboard/statements/{s}/withdraw", {}, WRITERS),
    ("POST", "/dashboard/statements/{s}/approve", {"content_hash": "0" * 12}, {P}),
    ("POST", "/dashboard/statements/{s}/reject", {"comment": "Too vague"}, {P}),
    ("POST", "/dashboard/statements/{s}/publish", {}, WRITERS),
    ("POST", "/dashboard/statements/{s}/keep", {}, WRITERS),
    ("GET", "/dashboard/holding", None, READERS),
    ("POST", "/dashboard/holding/1/activate", {}, READERS),
    ("POST", "/dashboard/holding/1/links", {}, READERS),
    ("POST", "/dashboard/holding/1/links/revoke", {}, READERS),
    ("GET", "/dashboard/inbox", None, READERS),
    ("GET", "/dashboard/statements/{s}/progress", None, READERS),
    ("GET", "/dashboard/send-log", None, READERS),
    ("GET", "/dashboard/consistency", None, READERS),
    ("GET", "/dashboard/admin", None, {ADMIN}),
    ("POST", "/dashboard/admin/users", {"name": "dave", "roles": "author"}, {ADMIN}),
    ("POST", "/dashboard/admin/users/roles", {"name": "alice", "roles": "author"}, {ADMIN}),
    ("POST", "/dashboard/admin/tokens", {"user": "alice", "role": "author"}, {ADMIN}),
    ("POST", "/dashboard/admin/tokens/1/revoke", {}, {ADMIN}),
    ("POST", "/dashboard/admin/subscribers", {"email": "new@example.com"}, {ADMIN}),
    ("POST", "/dashboard/admin/subscribers/1/remove", {}, {ADMIN}),
    ("GET", "/dashboard/social", None, {SOCIAL, ADMIN}),
    ("POST", "/dashboard/social/pull", {}, {SOCIAL, ADMIN}),
    ("POST", "/dashboard/social/search", {"query": "login down"}, {SOCIAL, ADMIN}),
    ("POST", "/dashboard/social/posts/{p}/reply", {"variant": "1"}, {SOCIAL}),
    ("POST", "/dashboard/social/posts/{p}/skip", {}, {SOCIAL}),
    ("POST", "/dashboard/social/posts/{p}/free-text", {"text": "Try the mobile app"}, {SOCIAL}),
    ("POST", "/dashboard/social/posts/{p}/free-text/approve", {"content_hash": "0" * 12}, {P}),
]
POST_ID = "1860000000000000042"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # who may do what does not depend on the database


@pytest.fixture
def site(settings):
    return install(settings, dispatch=lambda settings, ids: None)


def log_in(site, settings, name: str) -> str:
    """A session for `name` (the login form is tested elsewhere); returns its CSRF token."""
    from broadcaster.web.api import SESSION_COOKIE
    from tests.conftest import actor

    cookie, csrf = auth.start_session(settings, actor(settings, name))
    site.client.cookies.set(SESSION_COOKIE, cookie)
    return csrf


def _fill(text: str, site) -> str:
    return text.format(s=site.statement_id, i=site.incident_id, p=POST_ID)


def page_routes():
    """The dashboard's routes and the confirm pages behind emailed links (their routers have no prefix)."""
    from broadcaster.web import approval_links, dashboard, dashboard_admin, dashboard_social

    return [route for module in (dashboard, dashboard_admin, dashboard_social, approval_links)
            for route in module.router.routes]


def test_the_table_covers_every_dashboard_route(site):
    routes = {(method, route.path) for route in page_routes() if route.path.startswith("/dashboard")
              for method in route.methods - {"HEAD"}}
    table = {(method, re.sub(r"/1(/|$)", r"/{id}\1", path).replace("{i}", "{incident_id}")
              .replace("{s}", "{statement_id}").replace("{p}", "{post_id}")) for method, path, _, _ in PAGES}
    named = {(method, re.sub(r"\{(subscriber_id|token_id|number)\}", "{id}", path)) for method, path in routes}
    assert named == table


@pytest.mark.parametrize("role", [A, P, ADMIN, SOCIAL])
@pytest.mark.parametrize("method, path, form, roles", PAGES, ids=[f"{m} {p}" for m, p, _, _ in PAGES])
def test_each_role_is_allowed_or_refused_by_the_table(site, settings, role, method, path, form, roles):
    csrf = log_in(site, settings, USERS[role])
    url = _fill(path, site)
    if method == "GET":
        response = site.client.get(url)
    else:
        response = site.client.post(url, data={"csrf_token": csrf, **{k: _fill(v, site) for k, v in form.items()}})
    assert response.status_code < 500, response.text
    if role in roles:
        assert "needs role" not in response.text, response.text
        return
    assert "needs role" in response.text
    with transaction(settings.database_url) as s:
        refusals = s.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("refused: "))).all()
    assert refusals, "a refusal is audited"


ID_TOO_LARGE = "99999999999999999999"


def test_no_dashboard_route_answers_5xx_to_an_id_too_large(site, settings):
    csrf = log_in(site, settings, USERS[ADMIN])
    for route in page_routes():
        if "{" not in route.path:
            continue
        url = re.sub(r"\{\w+\}", ID_TOO_LARGE, route.path)
        for method in route.methods - {"HEAD"}:
            response = site.client.request(method, url, data={"csrf_token": csrf, "t": "x"} if method == "POST"
                                           else None)
            assert "text/html" in response.headers["content-type"], (method, url)
            if "{post_id}" in route.path:  # X's post ids are strings of digits: no such post, said on the page
                assert response.status_code < 500 and "flash error" in response.text, (method, url)
            else:
                assert response.status_code == 422, (method, url)
    edited = site.client.get(f"/dashboard/send-log?statement_id={ID_TOO_LARGE}&offset={ID_TOO_LARGE}")
    assert edited.status_code == 422 and "offset" in edited.text


def test_every_dashboard_form_refuses_a_post_without_the_csrf_token(site, settings):
    log_in(site, settings, USERS[ADMIN])
    forms = [(path, form) for method, path, form, _ in PAGES if method == "POST"] + [("/logout", {})]
    for path, form in forms:
        response = site.client.post(_fill(path, site), data={k: _fill(v, site) for k, v in form.items()})
        assert response.status_code == 403 and "security token" in response.text, path
    assert site.client.get("/dashboard/admin").status_code == 200  # nothing done, not even the logout
