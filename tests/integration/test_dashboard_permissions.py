"""Every dashboard page and form × every role: allowed, or refused from the permission table (and
audited), as the API is. One table; a test checks it names every dashboard route. And no
dashboard route answers 5xx to an id too large for any database.

"Allowed" is shown, not assumed: a page answers 200, and a form leaves an audit row of this user's
that is not a refusal for the role (the use case ran, or refused for one of its own rules: every
form's target exists). "Refused" is this user's audited refusal of this action for the role."""

import re

import pytest
from sqlalchemy import func, select

from broadcaster import social
from broadcaster.alerts import rules
from broadcaster.holding import holding_statements
from broadcaster.incidents import publishing, statements
from broadcaster.people import auth
from broadcaster.playbooks import statement_templates as playbooks
from broadcaster.playbooks.statement_templates import TemplateInput
from broadcaster.postmortems import workflow as postmortems
from broadcaster.stakeholders import audiences as service
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, utcnow
from broadcaster.store.social_models import SocialPost
from tests.conftest import actor, add_user
from tests.fakes.x_server import running_x, x_settings
from tests.integration.api_fixtures import USERS, copy_of, install, seed, seeded_file, serve
from tests.integration.engine import approved_statement
from tests.integration.holding_data import approved_holding_statement
from tests.integration.surfaces_data import open_incident, publish_update

A, P, ADMIN, SOCIAL = "author", "approver", "admin", "social"
READERS = {A, P, ADMIN}
WRITERS = {A, ADMIN}

TEMPLATE = {"name": "plain", "title": "Login problems", "headline": "Some customers cannot log in",
            "body": "One login in five fails.", "resolution": "Logins work again.",
            "resolved_body": "It is fixed."}

# (method, path, form, the action in PERMISSIONS, the roles that may use it). {s}: a statement waiting for
# approval, {i}: its incident, {p}: a customer's post (free text proposed for it), 1: holding statement #1.
PAGES = [
    ("GET", "/dashboard", None, "read", READERS | {SOCIAL}),  # the social team lands on its own page
    ("POST", "/dashboard/incidents", {"title": "Checkout down", "impact": "minor"}, "open incident", WRITERS),
    ("GET", "/dashboard/incidents/{i}", None, "read", READERS),
    ("GET", "/dashboard/incidents/{i}/new", None, "draft", WRITERS),
    ("GET", "/dashboard/statements/{s}/edit", None, "edit", WRITERS),
    ("POST", "/dashboard/statements", {"incident_id": "{i}", "headline": "H", "body": "B", "next_update": "30m"},
     "draft", WRITERS),
    ("GET", "/dashboard/statements/{s}", None, "read", READERS),
    ("POST", "/dashboard/preview", {"incident_id": "{i}", "headline": "H", "body": "B"}, "read", READERS),
    ("GET", "/dashboard/board", None, "read", READERS),
    ("POST", "/dashboard/statements/{s}/submit", {}, "submit", WRITERS),
    ("POST", "/dashboard/statements/{s}/withdraw", {}, "withdraw", WRITERS),
    ("POST", "/dashboard/statements/{s}/approve", {"content_hash": "0" * 12}, "approve", {P}),
    ("POST", "/dashboard/statements/{s}/reject", {"comment": "Too vague"}, "reject", {P}),
    ("POST", "/dashboard/statements/{s}/publish", {}, "publish", WRITERS),
    ("POST", "/dashboard/statements/{s}/keep", {}, "keep holding", WRITERS),
    ("GET", "/dashboard/holding", None, "read", READERS),
    ("POST", "/dashboard/holding/1/activate", {}, "activate holding", READERS),
    ("POST", "/dashboard/holding/1/links", {}, "activate holding", READERS),
    ("POST", "/dashboard/holding/1/links/revoke", {}, "activate holding", READERS),
    ("GET", "/dashboard/inbox", None, "read", READERS),
    ("GET", "/dashboard/statements/{s}/progress", None, "read", READERS),
    ("GET", "/dashboard/send-log", None, "read", READERS),
    ("GET", "/dashboard/consistency", None, "read", READERS),
    ("GET", "/dashboard/admin", None, "manage users", {ADMIN}),
    ("POST", "/dashboard/admin/users", {"name": "dave", "roles": "author"}, "manage users", {ADMIN}),
    ("POST", "/dashboard/admin/users/roles", {"name": "alice", "roles": "author"}, "manage users", {ADMIN}),
    ("POST", "/dashboard/admin/users/slack", {"name": "alice", "slack_user_id": "UALICE0001"}, "manage users",
     {ADMIN}),
    ("POST", "/dashboard/admin/tokens", {"user": "alice", "role": "author"}, "manage tokens", {ADMIN}),
    ("POST", "/dashboard/admin/tokens/1/revoke", {}, "manage tokens", {ADMIN}),
    ("POST", "/dashboard/admin/subscribers", {"email": "new@example.com"}, "manage subscribers", {ADMIN}),
    ("POST", "/dashboard/admin/subscribers/1/remove", {}, "manage subscribers", {ADMIN}),
    ("GET", "/dashboard/social", None, "read social", {SOCIAL, ADMIN}),
    ("POST", "/dashboard/social/pull", {}, "social pull", {SOCIAL, ADMIN}),
    ("POST", "/dashboard/social/search", {"query": "login down"}, "social pull", {SOCIAL, ADMIN}),
    ("POST", "/dashboard/social/posts/{p}/reply", {"variant": "1"}, "social reply", {SOCIAL}),
    ("POST", "/dashboard/social/posts/{p}/skip", {}, "social reply", {SOCIAL}),
    ("POST", "/dashboard/social/posts/{p}/free-text", {"text": "Try the mobile app"}, "social reply", {SOCIAL}),
    ("POST", "/dashboard/social/posts/{p}/free-text/approve", {"content_hash": "0" * 12}, "approve reply", {P}),
    ("GET", "/dashboard/alerts", None, "read", READERS),
    ("POST", "/dashboard/templates", {**TEMPLATE, "name": "another"}, "manage templates", WRITERS),
    ("POST", "/dashboard/templates/1/use", {}, "open incident", WRITERS),
    ("POST", "/dashboard/alerts/rules", {"name": "another", "template": "plain"}, "manage alert rules", WRITERS),
    ("POST", "/dashboard/alerts/rules/1/enable", {}, "manage alert rules", WRITERS),
    ("POST", "/dashboard/alerts/rules/1/disable", {}, "manage alert rules", WRITERS),
    ("POST", "/dashboard/alerts/sources", {"name": "prom", "kind": "alertmanager"}, "manage alert sources", {ADMIN}),
    ("GET", "/dashboard/incidents/{i}/postmortem", None, "read", READERS),
    ("POST", "/dashboard/incidents/{i}/postmortem", {"markdown": "What happened", "intent": "save"}, "draft", WRITERS),
    ("POST", "/dashboard/postmortems/1/approve", {"content_hash": "0" * 12, "incident_id": "{i}"}, "approve", {P}),
    ("POST", "/dashboard/postmortems/1/publish", {"incident_id": "{i}"}, "publish", WRITERS),
    ("GET", "/dashboard/stakeholders", None, "manage stakeholders", WRITERS),
    ("POST", "/dashboard/stakeholders", {"name": "board"}, "manage stakeholders", WRITERS),
    ("POST", "/dashboard/stakeholders/leadership/members", {"name": "Pat", "email": "pat@example.com"},
     "manage stakeholders", WRITERS),
    ("POST", "/dashboard/stakeholders/leadership/members/Chris/remove", {}, "manage stakeholders", WRITERS),
    ("POST", "/dashboard/stakeholders/leadership/remove", {}, "manage stakeholders", WRITERS),
]
POST_ID = "1860000000000000042"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # who may do what does not depend on the database


@pytest.fixture
def site(settings):
    return install(settings, dispatch=lambda settings, ids: None)


@pytest.fixture(scope="module")
def module_x():
    with running_x() as x:
        yield x


def _x_settings(x) -> dict:
    return {**x_settings(x), "x_rate": "100000/second"}


@pytest.fixture(scope="module")
def seeded_everything(tmp_path_factory, sqlite_template, module_x):
    """The installation with every form's target there: holding statement #1 (approved, with a link for
    alice), another incident live on a fake X with a customer's post about it (free text proposed for it),
    and token 1 and subscriber 1 (the installation's). Seeded once; each case gets a copy."""
    def build(settings):
        seeded = seed(settings)
        add_user(settings, "ally", ["author"], email="ally@example.com")
        holding_statements.set_pin(settings, "ally", "1357")
        holding_statements.keep(settings, actor(settings, "alice"),
                                approved_holding_statement(settings, "alice", "bob"))
        live = approved_statement(settings, "Payments are slow")
        publishing.publish(settings, actor(settings, "alice"), live, dispatch=lambda settings, ids: None)
        with transaction(settings.database_url) as s:
            s.add(SocialPost(id=POST_ID, author_username="customer", text="@acme slow?", lane="mention",
                             found_by="mentions", pulled_at=utcnow(), posted_at=utcnow(),
                             incident_id=statements.get_statement(settings, live)["incident_id"]))
        social.propose(settings, actor(settings, "sam"), POST_ID, "We are on it: payments are slow, not lost.")
        playbooks.add_template(settings, actor(settings, "alice"), TemplateInput(**TEMPLATE))  # template 1
        rules.add_rule(settings, actor(settings, "alice"), rules.RuleInput(name="plain", template="plain"))  # rule 1
        over = open_incident(settings, "Search was slow", "minor", ("Search",))  # postmortem 1, a draft
        for status in ("investigating", "resolved"):
            publish_update(settings, over, status=status, headline="Search is slow", dispatch=lambda s, ids: None)
        postmortems.write(settings, actor(settings, "alice"), over, "Search was slow for an hour.")
        service.create_audience(settings, actor(settings, "alice"), "leadership")
        service.add_member(settings, actor(settings, "alice"), "leadership", "Chris", email="ceo@example.com")
        return seeded

    return seeded_file(tmp_path_factory, sqlite_template, build, **_x_settings(module_x))


@pytest.fixture
def everything(seeded_everything, module_x, tmp_path):
    from tests.conftest import make_settings

    path, seeded = seeded_everything
    settings = make_settings(copy_of(path, tmp_path), **_x_settings(module_x))
    return serve(settings, seeded, dispatch=lambda settings, ids: None), settings


def log_in(site, settings, name: str) -> str:
    """A session for `name` (the login form is tested elsewhere); returns its CSRF token."""
    from broadcaster.web.api.common import SESSION_COOKIE

    cookie, csrf = auth.start_session(settings, actor(settings, name))
    site.client.cookies.set(SESSION_COOKIE, cookie)
    return csrf


def _fill(text: str, site) -> str:
    return text.format(s=site.statement_id, i=site.incident_id, p=POST_ID)


def page_routes():
    """The dashboard's routes and the confirm pages behind emailed links (their routers have no prefix)."""
    from broadcaster.web.dashboard import ROUTERS

    return [route for router in ROUTERS for route in router.routes]


def test_the_table_covers_every_dashboard_route(site):
    routes = {(method, route.path) for route in page_routes() if route.path.startswith("/dashboard")
              for method in route.methods - {"HEAD"}}
    table = {(method, re.sub(r"/1(/|$)", r"/{id}\1", path).replace("{i}", "{incident_id}")
              .replace("{s}", "{statement_id}").replace("{p}", "{post_id}")) for method, path, _, _, _ in PAGES}
    ids = r"\{(subscriber_id|token_id|number|template_id|rule_id|postmortem_id)\}"
    named = {(method, re.sub(ids, "{id}", path).replace("{audience}", "leadership").replace("{name}", "Chris"))
             for method, path in routes}
    assert named == table


def _audit_of(settings, user_id: int, after: int) -> list[tuple[str, str]]:
    """(action, reason) of this user's audit rows after row `after`."""
    with transaction(settings.database_url) as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.actor_id == user_id, AuditEvent.id > after).order_by(AuditEvent.id)).all()
    return [(action, (detail or {}).get("reason", "")) for action, detail in rows]


@pytest.mark.parametrize("role", [A, P, ADMIN, SOCIAL])
@pytest.mark.parametrize("method, path, form, action, roles", PAGES, ids=[f"{m} {p}" for m, p, _, _, _ in PAGES])
def test_each_role_is_allowed_or_refused_by_the_table(everything, role, method, path, form, action, roles):
    site, settings = everything
    csrf = log_in(site, settings, USERS[role])
    me = actor(settings, USERS[role])
    with transaction(settings.database_url) as s:
        before = s.scalar(select(func.max(AuditEvent.id))) or 0
    url = _fill(path, site)
    if method == "GET":
        response = site.client.get(url)
    else:
        response = site.client.post(url, data={"csrf_token": csrf, **{k: _fill(v, site) for k, v in form.items()}})
    assert response.status_code < 500, response.text
    written = _audit_of(settings, me.id, before)
    role_refusal = (f"refused: {action}", f"{me.name} cannot {action}: needs role")
    refused_for_role = [(a, why) for a, why in written if a == role_refusal[0] and why.startswith(role_refusal[1])]
    if role in roles:
        assert refused_for_role == [], written
        if method == "GET" or action == "read":  # a page, or a POST that only reads (the editor's preview)
            assert response.status_code == 200, response.text
        else:  # the use case ran, or refused for a rule of its own: either way it left this user's audit row
            assert written, response.text
        return
    assert "needs role" in response.text and (method == "POST" or response.status_code == 403)  # a form: a flash
    assert refused_for_role, written  # this user's refusal of this action, audited


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
    forms = [(path, form) for method, path, form, _, _ in PAGES if method == "POST"] + [("/logout", {})]
    for path, form in forms:
        response = site.client.post(_fill(path, site), data={k: _fill(v, site) for k, v in form.items()})
        assert response.status_code == 403 and "security token" in response.text, path
    assert site.client.get("/dashboard/admin").status_code == 200  # nothing done, not even the logout
