"""The REST API end to end on a real database: the statement lifecycle, publish enqueues, the
send log with paging and CSV, and errors as problem details in the CLI's words."""

import csv
import io

import pytest

from broadcaster.delivery.chunk import send_now
from tests.integration.api_fixtures import install

PROBLEM = "application/problem+json"


@pytest.fixture
def site(settings):
    dispatched: list[list[int]] = []
    installation = install(settings, dispatch=lambda settings, ids: dispatched.append(ids))
    installation.dispatched = dispatched
    return installation


def call(site, role, method, path, **kwargs):
    return site.client.request(method, "/api/v1" + path, headers=site.as_role(role), **kwargs)


def test_draft_submit_approve_publish_through_the_api_enqueues_without_sending(site, settings):
    new = call(site, "author", "POST", f"/incidents/{site.incident_id}/statements",
               json={"status": "identified", "headline": "Login fixed soon", "body": "A bad deploy.",
                     "next_update": "30m"})
    assert new.status_code == 201 and new.json()["version"] == 2
    sid = new.json()["id"]
    preview = call(site, "author", "GET", f"/statements/{sid}/preview").json()
    assert "Login fixed soon" in preview["channels"]["sms"]["text"]
    submitted = call(site, "author", "POST", f"/statements/{sid}/submit").json()
    site.dispatched.clear()  # the approvers' requests (messages through the engine, tested on their own)
    approved = call(site, "approver", "POST", f"/statements/{sid}/approve",
                    json={"content_hash": submitted["content_hash"][:12], "comment": "ok"})
    assert approved.json()["state"] == "approved"

    published = call(site, "author", "POST", f"/statements/{sid}/publish")

    assert published.status_code == 202 and published.json()["state"] == "published"
    # The live surfaces first, then each fan-out slice (this test's dispatch runs them in the request).
    assert len(site.dispatched[0]) == published.json()["deliveries"]
    progress = call(site, "author", "GET", f"/statements/{sid}/progress").json()
    assert progress["done"] == 0 and progress["total"] == sum(map(len, site.dispatched))  # nothing sent


def test_send_log_pages_and_exports_csv_with_every_channel(site, settings, monkeypatch):
    from broadcaster.web.api import deliveries as api_deliveries

    monkeypatch.setattr(api_deliveries, "CSV_PAGE", 2)  # the export streams page after page: no row lost or twice
    sid = site.statement_id
    call(site, "approver", "POST", f"/statements/{sid}/approve", json={"content_hash": site.content_hash})
    site.client.app.state.dispatch = send_now
    call(site, "author", "POST", f"/statements/{sid}/publish")
    assert call(site, "author", "GET", f"/statements/{sid}/progress").json()["percent"] == 100

    first = call(site, "author", "GET", "/send-log", params={"statement_id": sid, "limit": 3}).json()
    rest = call(site, "author", "GET", "/send-log", params={"statement_id": sid, "offset": 3, "limit": 1000}).json()
    exported = list(csv.DictReader(io.StringIO(call(site, "author", "GET", "/send-log.csv").text)))

    assert len(first["items"]) == 3 and first["next_offset"] == 3 and rest["next_offset"] is None
    assert [e["id"] for e in first["items"] + rest["items"]] == [int(row["id"]) for row in exported]
    assert {row["channel"] for row in exported if row["status"] in ("sent", "simulated")} == {
        "banner", "status_page", "x", "email", "sms", "ivr", "agent", "slack", "teams", "zendesk"}
    only_email = call(site, "author", "GET", "/send-log", params={"channel": "email"}).json()["items"]
    assert only_email and {e["channel"] for e in only_email} == {"email"}


def test_an_illegal_transition_is_a_409_problem_naming_the_state(site):
    response = call(site, "author", "POST", f"/statements/{site.statement_id}/publish")
    assert response.status_code == 409 and response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == (f"cannot publish statement {site.statement_id} (incident {site.incident_id} "
                                         "v1): it is waiting for approval")


def test_a_broken_limit_is_a_422_problem_naming_the_limit(site):
    new = call(site, "author", "POST", f"/incidents/{site.incident_id}/statements",
               json={"headline": "Down", "body": "B", "workaround": "w " * 300, "next_update": "30m"}).json()
    response = call(site, "author", "POST", f"/statements/{new['id']}/submit")
    assert response.status_code == 422 and response.json()["title"] == "Limit exceeded"
    assert any(limit.startswith("sms:") for limit in response.json()["limits"])


def test_bad_input_is_a_422_problem_naming_the_field_without_a_traceback(site):
    wrong_type = call(site, "author", "POST", "/incidents", json={"title": "", "impact": 5})
    assert wrong_type.status_code == 422 and wrong_type.headers["content-type"] == PROBLEM
    assert {e["field"] for e in wrong_type.json()["errors"]} == {"title", "impact"}
    domain = call(site, "author", "POST", "/incidents", json={"title": "Down", "impact": "apocalyptic"})
    assert domain.status_code == 422 and domain.json()["field"] == "impact"
    assert "Traceback" not in domain.text and "impact" in domain.json()["detail"]


def test_a_nul_character_in_any_value_is_a_422_problem_naming_it_on_both_backends(site):
    """PostgreSQL keeps no NUL in text (SQLite would): refused up front, saying where, never a 500."""
    for answer, field in (
        (call(site, "admin", "GET", "/send-log", params={"channel": "sms\x00"}), "channel"),
        (call(site, "author", "POST", "/incidents", json={"title": "Login\u0000down", "impact": "minor"}), "title"),
        (call(site, "admin", "GET", "/subscribers", params={"q": "\x00"}), "q"),
    ):
        assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM, answer.text
        assert answer.json()["field"] == field and "NUL" in answer.json()["detail"]


def test_approving_other_words_than_stored_is_refused_with_both_hashes(site):
    response = call(site, "approver", "POST", f"/statements/{site.statement_id}/approve",
                    json={"content_hash": "0" * 64})
    assert response.status_code == 403
    assert "preview it again and approve what you see" in response.json()["detail"]


def test_a_revoked_token_is_refused_at_once(site):
    token_id = call(site, "admin", "GET", "/tokens").json()[0]["id"]
    call(site, "admin", "DELETE", f"/tokens/{token_id}")
    assert call(site, "author", "GET", "/incidents").status_code == 401


def test_admin_adds_searches_and_removes_subscribers(site):
    added = call(site, "admin", "POST", "/subscribers", json={"email": "Ann@Example.com", "phone": "+14155550199"})
    assert added.status_code == 201
    found = call(site, "admin", "GET", "/subscribers", params={"q": "ann@"}).json()
    assert [s["email"] for s in found["items"]] == ["Ann@example.com"]  # the search ignores case
    call(site, "admin", "DELETE", f"/subscribers/{added.json()['id']}")
    assert call(site, "admin", "GET", "/subscribers", params={"q": "ann@"}).json()["total"] == 0


def test_a_subscriber_reads_updates_in_the_language_given_once_spelled_one_way(site):
    added = call(site, "admin", "POST", "/subscribers", json={"email": "ana@example.com", "locale": "ES_mx"})
    assert (added.status_code, added.json()["locale"]) == (201, "es-MX")
    default = call(site, "admin", "POST", "/subscribers", json={"email": "bo@example.com"}).json()
    assert default["locale"] == "en"  # the installation's default language
    refused = call(site, "admin", "POST", "/subscribers", json={"email": "cy@example.com", "locale": "klingon"})
    assert refused.status_code == 422 and "is not a language tag like 'es' or 'pt-BR'" in refused.json()["detail"]
    assert call(site, "admin", "GET", "/subscribers", params={"q": "cy@"}).json()["total"] == 0  # nothing added


def test_the_audit_trail_shows_allowed_and_refused_actions_with_their_actor(site):
    call(site, "author", "POST", f"/statements/{site.statement_id}/approve", json={"content_hash": site.content_hash})
    trail = call(site, "admin", "GET", "/audit").json()["items"]
    assert (trail[0]["actor"], trail[0]["action"]) == ("alice", "refused: approve")
    assert ("alice", "submit") in {(e["actor"], e["action"]) for e in trail}


def test_the_openapi_document_describes_only_the_api(site):
    paths = site.client.get("/openapi.json").json()["paths"]
    assert paths and all(p.startswith("/api/v1/") for p in paths)
    assert site.client.get("/docs").status_code == 200


def test_an_admin_replaces_roles_and_a_token_loses_the_role_its_user_lost(site):
    changed = call(site, "admin", "PUT", "/users/bob/roles", json={"roles": ["author"]})
    assert changed.status_code == 200 and changed.json()["roles"] == ["author"]
    assert call(site, "approver", "GET", "/incidents").status_code == 403  # bob's approver token acts as nobody now
    unknown = call(site, "admin", "PUT", "/users/nobody/roles", json={"roles": ["author"]})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM


def test_delivery_status_says_which_channels_are_paused_and_counts_deliveries(site):
    status = call(site, "author", "GET", "/delivery-status")
    assert status.status_code == 200 and status.json() == {"paused": {}, "deliveries": {}}


def test_names_longer_than_the_database_keeps_are_refused_naming_the_field_on_every_backend(site, settings):
    """The dashboard and the CLI reach the use cases without the API's own limits: PostgreSQL would
    refuse the row with an error, SQLite would keep it."""
    from broadcaster.domain.errors import InvalidInput
    from broadcaster.incidents import statements
    from broadcaster.people import users
    from tests.conftest import actor

    with pytest.raises(InvalidInput, match="title: at most 200 characters, got 201"):
        statements.open_incident(settings, actor(settings, "alice"), "x" * 201, "minor")
    with pytest.raises(InvalidInput, match="name: at most 100 characters, got 101"):
        users.add_user(settings, actor(settings, "root"), "n" * 101, ["author"])
