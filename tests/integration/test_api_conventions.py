"""What every API route does alike: bodies bounded as they arrive (413) and in depth (422), each text
field's length and character rule (the API's schemas, the CLI's and dashboard's statement input), 405
with `Allow`, request ids echoed and logged, `Link` pagination, `RateLimit` headers and 429 with
`Retry-After`; and the login form's `next` accepts only plain local paths."""

import logging

import pytest
from pydantic import ValidationError

from broadcaster.incidents.statements import StatementInput
from broadcaster.web.dashboard.login import _local as local_path
from tests.conftest import make_settings
from tests.integration.api_fixtures import install

PROBLEM = "application/problem+json"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def site(settings):
    return install(settings, dispatch=lambda settings_, ids: None)


def test_an_oversized_body_is_refused_on_every_route_counted_as_it_arrives(site):
    author = site.as_role("author")
    big = b'{"title": "' + b"x" * 1_100_000 + b'", "impact": "minor"}'
    as_json = {**author, "Content-Type": "application/json"}
    declared = site.client.post("/api/v1/incidents", content=big, headers=as_json)
    assert declared.status_code == 413 and declared.headers["content-type"] == PROBLEM
    assert "at most 1000000 bytes" in declared.json()["detail"]

    def chunks():  # no Content-Length: only counting what arrives can tell
        for _ in range(12):
            yield b"x" * 100_000
    streamed = site.client.post("/api/v1/incidents", content=chunks(), headers={**author,
                                                                               "Content-Type": "application/json"})
    assert streamed.status_code == 413
    # A route that takes no body refuses one all the same; so does a page outside the API.
    assert site.client.request("GET", "/api/v1/incidents", content=chunks(), headers=author).status_code == 413
    assert site.client.request("GET", "/status", content=chunks()).status_code == 413


def test_a_deeply_nested_body_is_refused(site):
    nested = "[" * 50 + "]" * 50
    answer = site.client.post("/api/v1/incidents", content=f'{{"title": "t", "impact": "minor", "x": {nested}}}',
                              headers={**site.as_role("author"), "Content-Type": "application/json"})
    assert answer.status_code == 422 and "nested deeper than 20 levels" in answer.json()["detail"]
    # Brackets inside a string are words, not depth.
    words = site.client.post("/api/v1/incidents", json={"title": "[" * 60, "impact": "minor"},
                             headers=site.as_role("author"))
    assert words.status_code == 201, words.text


def test_each_text_field_has_its_limit_and_character_rule(site):
    author = site.as_role("author")
    url = f"/api/v1/incidents/{site.incident_id}/statements"
    cases = [
        ({"headline": "Down", "body": "x" * 5_001}, "body", "at most 5000 characters"),
        ({"headline": "Down\r\nBcc: all@example.com", "body": "b"}, "headline", "contains a CR character"),
        ({"headline": "Down\u2028again", "body": "b"}, "headline", "U+2028"),
        ({"headline": "   ", "body": "b"}, "headline", "at least 1 character"),
        ({"headline": "Down", "body": "one\x00two"}, "body", "NUL"),
    ]
    for given, field, words in cases:
        answer = site.client.post(url, json=given, headers=author)
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
        assert words in answer.json()["detail"], answer.json()
    assert site.client.post(url, json={"headline": "Down", "body": "Line one.\nLine two.\tTabbed."},
                            headers=author).status_code == 201
    title = site.client.post("/api/v1/incidents", json={"title": "Login\ndown", "impact": "minor"}, headers=author)
    assert title.status_code == 422 and title.json()["field"] == "title"
    query = site.client.get("/api/v1/send-log", params={"target": "a\rb"}, headers=site.as_role("admin"))
    assert query.status_code == 422 and "CR" in query.json()["detail"]
    # The same declaration bounds the CLI's and the dashboard's statement input.
    with pytest.raises(ValidationError, match="at most 5000 characters"):
        StatementInput(body="x" * 5_000_000)
    with pytest.raises(ValidationError, match="contains a LF character"):
        StatementInput(headline="a\nb")


def test_405_says_which_methods_the_path_takes(site):
    answer = site.client.delete("/api/v1/incidents", headers=site.as_role("admin"))
    assert answer.status_code == 405 and answer.headers["content-type"] == PROBLEM
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "POST"}
    one = site.client.put(f"/api/v1/statements/{site.statement_id}", headers=site.as_role("admin"))
    assert one.status_code == 405 and set(one.headers["Allow"].split(", ")) == {"GET", "PATCH"}


def test_request_ids_are_echoed_carried_by_problems_and_logged(site, caplog):
    caplog.set_level(logging.INFO, logger="broadcaster.requests")
    given = site.client.get("/api/v1/incidents", headers={**site.as_role("author"), "X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
    made = site.client.get("/api/v1/incidents/999", headers={**site.as_role("author"), "X-Request-ID": "bad id\x7f"})
    assert made.status_code == 404 and len(made.headers["X-Request-ID"]) == 32
    assert made.json()["request_id"] == made.headers["X-Request-ID"]
    logged = [r.getMessage() for r in caplog.records if r.name == "broadcaster.requests"]
    assert any("trace-42" in line and "GET /api/v1/incidents -> 200" in line for line in logged), logged
    assert any(made.headers["X-Request-ID"] in line and "-> 404" in line for line in logged), logged


def test_every_list_pages_with_link_headers(site):
    admin = site.as_role("admin")
    seen, url, pages = [], "/api/v1/users?limit=2", 0
    while url:
        answer = site.client.get(url, headers=admin)
        assert answer.status_code == 200
        seen += [user["name"] for user in answer.json()]
        link = answer.headers.get("Link")
        url = link[1:link.index(">")] if link else None
        assert not link or link.endswith('rel="next"')
        pages += 1
    assert pages == 3 and sorted(seen) == sorted(u["name"] for u in site.client.get("/api/v1/users",
                                                                                      headers=admin).json())
    bad = site.client.get("/api/v1/users?cursor=bm9wZTox", headers=admin)  # not one the API gave
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    audit = site.client.get("/api/v1/audit?limit=1", headers=admin)
    assert audit.headers["Link"].startswith("</api/v1/audit?limit=1&cursor=")
    documented = site.client.get("/openapi.json").json()["paths"]["/api/v1/send-log"]["get"]["responses"]["200"]
    assert "Link" in documented["headers"]


def test_rate_limit_headers_on_every_answer_and_429_with_retry_after(database_url):
    site = install(make_settings(database_url, api_rate="3/minute"), dispatch=lambda settings_, ids: None)
    author = site.as_role("author")
    answers = [site.client.get("/api/v1/incidents", headers=author) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Policy"] == '"default";q=3;w=60'
    assert answers[0].headers["RateLimit"].startswith('"default";r=2;t=')
    assert int(answers[3].headers["Retry-After"]) >= 1 and answers[3].headers["content-type"] == PROBLEM
    assert site.client.get("/api/v1/incidents", headers=site.as_role("admin")).status_code == 200  # per caller


@pytest.mark.parametrize("given, kept", [
    ("/dashboard/statements/4?tab=log", "/dashboard/statements/4?tab=log"),
    ("//evil.example", "/dashboard"), ("/\\evil.example", "/dashboard"), ("/%09/evil.example", "/dashboard"),
    ("https://evil.example/", "/dashboard"), ("javascript:alert(1)", "/dashboard"),
    ("/a\r\nSet-Cookie: x", "/dashboard"),
])
def test_login_redirects_only_to_plain_local_paths(given, kept):
    assert local_path(given) == kept


def test_approval_codes_by_sms_are_attempt_limited_per_approver_and_audited(database_url):
    from sqlalchemy import select

    from broadcaster.approvals import by_phone
    from broadcaster.store.db import transaction
    from broadcaster.store.models import AuditEvent

    settings = make_settings(database_url, sms_code_rate_per_user="3/hour")
    install(settings, dispatch=lambda settings_, ids: None)  # bob the approver texts from +14155550103
    outcomes = [by_phone.approve_by_sms(settings, "+14155550103", "000000", f"SM{i}") for i in range(4)]
    assert [outcome for outcome, _ in outcomes] == ["wrong_code"] * 3 + ["too_many"]
    assert [said.get("tries_left") for _, said in outcomes] == [2, 1, 0, None]
    with transaction(settings.database_url) as s:
        reasons = [e.detail["reason"] for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action == "refused: approve by SMS").order_by(AuditEvent.id))]
    assert reasons[:3] == ["wrong code"] * 3 and reasons[3].startswith("too many codes for bob (limit 3/hour)")
