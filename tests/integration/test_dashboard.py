"""The dashboard through HTTP as a browser uses it: login, CSRF on every form, sessions that
end, the editor, the approval inbox, publish and progress, the send log and the admin page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from broadcaster.people import auth
from broadcaster.store.access_models import WebSession
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, utcnow
from tests.integration.api_fixtures import install
from tests.integration.holding_data import approved_holding_statement

PASSWORD = "correct horse battery"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the pages' behaviour does not depend on the database; the API flows run on both


@pytest.fixture
def site(settings):
    installation = install(settings, dispatch=lambda settings, ids: None)
    for name in ("alice", "bob", "root"):
        auth.set_password(settings, name, PASSWORD)
    return installation


def log_in(client, name: str) -> str:
    """Logs in; returns the session's CSRF token as the pages carry it."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token,
                                           "next": "/dashboard"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/dashboard").text)


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


def test_pages_need_a_login_and_redirect_back_after_it(site):
    response = site.client.get("/dashboard/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/dashboard/inbox"


def test_the_session_cookie_is_httponly_and_samesite_lax(site):
    form = site.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = site.client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token},
                                follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "broadcaster_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1: a Secure cookie would never come back


def test_a_wrong_password_shows_the_login_again_with_why(site):
    form = site.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = site.client.post("/login", data={"name": "alice", "password": "nope nope nope", "csrf_token": token})
    assert response.status_code == 403 and "wrong name or password" in response.text


def test_a_login_name_or_password_past_its_bound_is_refused_before_anything_counts_it(site, settings):
    """A megabyte posted as a name became a rate-limit key, kept in the in-memory counters for good."""
    form = site.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    for field in ({"name": "x" * 900_000, "password": PASSWORD}, {"name": "alice", "password": "p" * 2000}):
        response = site.client.post("/login", data={**field, "csrf_token": token})
        assert response.status_code == 422 and "at most" in response.text, response.text[:300]
    longest = "n" * auth.MAX_NAME_LENGTH  # within the bound: counted, under a hash of the name
    assert site.client.post("/login", data={"name": longest, "password": PASSWORD, "csrf_token": token}
                            ).status_code == 403
    from broadcaster.usecase import installation_counters
    storage, _ = installation_counters(settings)
    keys = [*getattr(storage, "storage", {}), *getattr(storage, "events", {})]
    assert any("broadcaster-login" in key for key in keys)  # the in-memory counters of the embedded default
    assert not any(longest in key for key in keys)
    assert site.client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token},
                            follow_redirects=False).status_code == 303


def test_logins_over_the_limit_are_refused_and_audited_throttled(site, settings):
    form = site.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    with transaction(settings.database_url) as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    statuses = [site.client.post("/login", data={"name": f"nobody{n}", "password": "guess guess guess",
                                                 "csrf_token": token}).status_code for n in range(60)]
    assert statuses[:20] == [403] * 20 and set(statuses[20:]) == {429}  # 20 a minute from one address
    with transaction(settings.database_url) as s:
        written = s.scalar(select(func.count()).select_from(AuditEvent)) - before
    # the 20 wrong passwords in full; of the 40 refused over the limit, the first 5 and one summary at the 10th
    assert written == 20 + settings.audit_refusals_per_client + 1, written


def test_a_form_post_without_the_csrf_token_is_refused(site):
    log_in(site.client, "alice")
    response = site.client.post("/dashboard/incidents", data={"title": "Sneaky", "impact": "minor"})
    assert response.status_code == 403 and "security token" in response.text
    assert "Sneaky" not in site.client.get("/dashboard").text


def test_an_api_write_with_only_the_cookie_needs_the_csrf_header(site):
    csrf = log_in(site.client, "alice")
    body = {"title": "Checkout down", "impact": "minor"}
    assert site.client.post("/api/v1/incidents", json=body).status_code == 403
    assert site.client.post("/api/v1/incidents", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_an_api_write_refused_for_csrf_is_audited(site, settings):
    log_in(site.client, "alice")
    site.client.post("/api/v1/incidents", json={"title": "Checkout down", "impact": "minor"})
    with transaction(settings.database_url) as s:
        row = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (row.action, row.subject) == ("refused: form", "csrf")


def test_a_login_ends_the_session_the_browser_had_before(site, settings):
    """Session fixation: a cookie planted before the login (or left by someone else) is not continued."""
    log_in(site.client, "bob")
    planted = site.client.cookies.get("broadcaster_session")
    log_in(site.client, "alice")
    assert site.client.cookies.get("broadcaster_session") != planted
    with pytest.raises(auth.NotAuthenticated):
        auth.session_for(settings, planted)


def test_a_new_password_ends_every_session_of_that_user(site, settings):
    log_in(site.client, "alice")
    auth.set_password(settings, "alice", "another long password")
    assert site.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_messages_after_a_form_come_from_the_app_never_from_the_url(site):
    assert "Call +1 900" not in site.client.get("/login?error=Call+%2B1+900+now&notice=Call+%2B1+900").text
    csrf = log_in(site.client, "alice")
    assert "Call +1 900" not in site.client.get("/dashboard?error=Call+%2B1+900+now").text
    refused = site.client.post("/dashboard/incidents", data={"csrf_token": csrf, "title": "", "impact": "minor"},
                               follow_redirects=False)
    assert "?" not in refused.headers["location"]  # the reason travels in a short-lived cookie
    shown = site.client.get(refused.headers["location"])
    assert "title: must not be empty" in shown.text
    assert "title: must not be empty" not in site.client.get("/dashboard").text  # shown once


def test_pages_run_only_their_own_scripts_cannot_be_framed_and_leak_no_referer(site):
    log_in(site.client, "alice")
    page = site.client.get(f"/dashboard/incidents/{site.incident_id}/new")
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "frame-ancestors 'none'" in policy and page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all(f'nonce="{nonce}"' in attributes for attributes in scripts)
    assert not re.search(r"\son[a-z]+=", page.text)  # no inline handlers: the policy would block them
    assert nonce not in site.client.get(f"/dashboard/incidents/{site.incident_id}/new").text  # one per response


def test_an_admin_changes_a_users_roles_from_the_admin_page(site, settings):
    csrf = log_in(site.client, "root")
    changed = site.client.post("/dashboard/admin/users/roles",
                               data={"csrf_token": csrf, "name": "alice", "roles": ["author", "approver"]})
    assert "alice now has the roles approver, author" in changed.text
    assert auth.token_actor(settings, site.tokens["author"]).name == "alice"  # her token keeps its one role
    refused = site.client.post("/dashboard/admin/users/roles", data={"csrf_token": csrf, "name": "alice"})
    assert "role: give at least one of" in refused.text


def test_logout_ends_the_session(site):
    csrf = log_in(site.client, "alice")
    site.client.post("/logout", data={"csrf_token": csrf})
    assert site.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_an_expired_session_sends_the_user_to_the_login(site, settings):
    log_in(site.client, "alice")
    with transaction(settings.database_url) as s:
        s.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert site.client.get("/dashboard", follow_redirects=False).headers["location"].startswith("/login")


def test_the_author_drafts_and_submits_from_the_editor(site):
    csrf = log_in(site.client, "alice")
    editor = site.client.get(f"/dashboard/incidents/{site.incident_id}/new")
    assert editor.status_code == 200 and 'id="preview"' in editor.text
    response = site.client.post("/dashboard/statements", data={
        "csrf_token": csrf, "incident_id": site.incident_id, "then": "submit", "status": "identified",
        "impact": "major", "components": "Login", "headline": "We found the cause", "body": "A bad deploy.",
        "workaround": "", "next_update": "1h"})
    assert "submitted for approval" in response.text and "pending_approval" in response.text


def test_the_editor_keeps_the_text_and_says_which_limit_is_broken(site):
    csrf = log_in(site.client, "alice")
    response = site.client.post("/dashboard/statements", data={
        "csrf_token": csrf, "incident_id": site.incident_id, "then": "submit", "headline": "Down",
        "body": "B", "workaround": "w " * 300, "next_update": "30m"})
    assert response.status_code == 422 and "sms:" in response.text and "w w w" in response.text


def test_the_social_team_cannot_read_incidents_through_the_editors_refusal(site, settings):
    """A `social` user posts the editor's form with their own CSRF token: refused (and audited) before
    anything is read, so the refusal shows no incident title and no version, for any id."""
    from broadcaster.incidents import statements
    from tests.conftest import actor

    statements.draft(settings, actor(settings, "alice"), site.incident_id,
                     statements.StatementInput(headline="Second words", next_update="30m"))
    hidden = statements.open_incident(settings, actor(settings, "alice"), "Payroll export leaks", "minor", [])
    auth.set_password(settings, "sam", PASSWORD)
    csrf = log_in(site.client, "sam")  # lands on the social page, which carries the CSRF token too
    for form in ({"incident_id": str(hidden["id"])}, {"incident_id": str(site.incident_id),
                                                      "statement_id": str(site.statement_id)}):
        refused = site.client.post("/dashboard/statements", data={"csrf_token": csrf, "headline": "x", **form})
        assert refused.status_code == 403 and "sam cannot" in refused.text
        assert "Payroll export leaks" not in refused.text and "Login failures" not in refused.text
        assert 'name="headline"' not in refused.text  # no editor at all
    with transaction(settings.database_url) as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(
            ["refused: draft", "refused: edit"]))).all()
    assert sorted(actions) == ["refused: draft", "refused: edit"]


def test_the_approver_sees_the_hash_in_the_inbox_and_approves(site):
    csrf = log_in(site.client, "bob")
    inbox = site.client.get("/dashboard/inbox").text
    assert site.content_hash in inbox and "Some customers cannot log in" in inbox
    response = site.client.post(f"/dashboard/statements/{site.statement_id}/approve",
                                data={"csrf_token": csrf, "content_hash": site.content_hash, "comment": "go"})
    assert "approved" in response.text and "Nothing is waiting for approval" in response.text


def test_approving_a_stale_hash_from_the_inbox_is_refused_with_why(site):
    csrf = log_in(site.client, "bob")
    response = site.client.post(f"/dashboard/statements/{site.statement_id}/approve",
                                data={"csrf_token": csrf, "content_hash": "f" * 64})
    assert "preview it again" in response.text


def test_publish_leads_to_the_progress_page(site):
    bob = log_in(site.client, "bob")
    site.client.post(f"/dashboard/statements/{site.statement_id}/approve",
                     data={"csrf_token": bob, "content_hash": site.content_hash})
    alice = log_in(site.client, "alice")
    response = site.client.post(f"/dashboard/statements/{site.statement_id}/publish", data={"csrf_token": alice})
    assert response.url.path == f"/dashboard/statements/{site.statement_id}/progress"
    assert site.client.get(f"/api/v1/statements/{site.statement_id}/progress").json()["total"] > 0


def test_send_log_consistency_and_incident_pages_render(site):
    log_in(site.client, "alice")
    for path in ("/dashboard/send-log?channel=sms", "/dashboard/consistency",
                 f"/dashboard/incidents/{site.incident_id}", f"/dashboard/statements/{site.statement_id}"):
        assert site.client.get(path).status_code == 200, path


def test_only_channels_without_a_provider_are_called_simulated(site):
    """The built-in surfaces (banner, status page, phone line, agent desk) send for real with nothing to set up;
    email and SMS here have only the `log` provider."""
    log_in(site.client, "alice")
    statement = site.client.get(f"/dashboard/statements/{site.statement_id}").text
    simulated = re.search(r"No provider is set up for ([^:]*): logged as simulated", statement)[1]
    assert "Email" in simulated and "SMS" in simulated
    assert not [name for name in ("Website banner", "Status page", "Phone line", "Agent desk") if name in simulated]
    bob = log_in(site.client, "bob")
    site.client.post(f"/dashboard/statements/{site.statement_id}/approve",
                     data={"csrf_token": bob, "content_hash": site.content_hash})
    alice = log_in(site.client, "alice")
    site.client.post(f"/dashboard/statements/{site.statement_id}/publish", data={"csrf_token": alice})
    rows = dict(re.findall(r'<tr data-channel="(\w+)"[^>]*>(.*?)</tr>', site.client.get("/dashboard/consistency").text,
                           re.S))
    assert "logged as simulated" in rows["email"]
    assert not [name for name in ("status_page", "banner", "ivr") if "logged as simulated" in rows[name]], rows


def test_the_admin_page_is_for_admins_and_shows_a_new_token_once(site):
    log_in(site.client, "alice")
    assert site.client.get("/dashboard/admin").status_code == 403
    csrf = log_in(site.client, "root")
    created = site.client.post("/dashboard/admin/tokens", data={"csrf_token": csrf, "user": "alice", "role": "author"})
    secret = re.search(r"(bct_[\w-]+)", created.text).group(1)
    assert auth.token_actor(site.client.app.state.settings, secret).name == "alice"
    assert secret not in site.client.get("/dashboard/admin").text


def test_a_holding_statement_is_kept_and_switched_on_with_one_click(site, settings):
    from broadcaster.incidents import statements

    draft = {"id": approved_holding_statement(settings)}
    csrf = log_in(site.client, "alice")
    kept = site.client.post(f"/dashboard/statements/{draft['id']}/keep", data={"csrf_token": csrf})
    assert "We are aware of problems logging in" in kept.text and "Switch on #1" in kept.text
    bob = log_in(site.client, "bob")  # an approver may switch it on
    switched = site.client.post("/dashboard/holding/1/activate", data={"csrf_token": bob})
    assert switched.url.path == f"/dashboard/statements/{draft['id']}/progress"
    assert statements.get_statement(settings, draft["id"])["state"] == "published"


def test_keeping_a_holding_statement_with_no_email_provider_says_the_links_were_logged_not_sent(site, settings):
    """The embedded default has no email provider: the `log` provider records the email and sends
    nothing, so no page says "emailed"; the Holding page says links cannot be emailed here."""
    from broadcaster.holding import holding_statements
    from broadcaster.store.models import User

    with transaction(settings.database_url) as s:
        s.execute(update(User).where(User.name == "alice").values(email="alice@example.com"))
    holding_statements.set_pin(settings, "alice", "1357")
    statement_id = approved_holding_statement(settings)
    csrf = log_in(site.client, "alice")
    kept = site.client.post(f"/dashboard/statements/{statement_id}/keep", data={"csrf_token": csrf})
    notice = re.search(r'<div class="flash notice">(.*?)</div>', kept.text, re.S).group(1)
    assert notice.startswith("kept as holding statement #1; links for alice logged, not sent (no email provider "
                             "configured") and "(not root: no email address; not bob" in notice
    assert "emailed to" not in notice and 'id="no-email"' in kept.text
    assert re.search(r"<td[^>]*>alice</td><td[^>]*>alice@example.com <span[^>]*>\(logged, not sent\)</span></td>"
                     r".*?<td[^>]*>valid</td>", kept.text, re.S)
    fresh = site.client.post("/dashboard/holding/1/links", data={"csrf_token": csrf})
    assert "links for alice logged, not sent" in fresh.text
    assert fresh.text.count(">valid</td>") == 2 and ">revoked</td>" not in fresh.text  # a logged email reached nobody
    revoked = site.client.post("/dashboard/holding/1/links/revoke", data={"csrf_token": csrf})
    assert "2 links revoked" in revoked.text and ">valid</td>" not in revoked.text
