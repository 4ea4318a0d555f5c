"""What a caller who proves nothing costs the API: no idempotency record (the table is not the
public's to fill), and one share of the rate limit per client address however many tokens it makes
up; a real token is one caller however its scheme is spelt, and is read once a request."""

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from broadcaster.store.api_models import IdempotentRequest
from broadcaster.store.db import transaction
from tests.conftest import make_settings
from tests.integration.api_fixtures import install


def kept_keys(settings) -> int:
    with transaction(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(IdempotentRequest))


def test_only_an_authenticated_caller_whose_request_did_something_keeps_a_key(settings):
    site = install(settings, dispatch=lambda settings_, ids: None)
    for i in range(3):  # nobody, a made-up token, a made-up session: 404, 401 and the login page
        assert site.client.post(f"/api/v1/anything-{i}" + "x" * 1800,
                                headers={"Idempotency-Key": f"a{i}"}).status_code == 404
        assert site.client.post("/api/v1/incidents", json={"title": "x", "impact": "minor"},
                                headers={"Idempotency-Key": f"b{i}", "Authorization": f"Bearer bct_made_up_{i}"}
                                ).status_code == 401
        site.client.cookies.set("broadcaster_session", f"made-up-{i}")
        assert site.client.post("/dashboard/incidents", data={"idempotency_key": f"c{i}", "title": "x"},
                                follow_redirects=False).status_code == 303
        site.client.cookies.clear()
    assert kept_keys(settings) == 0
    # Authenticated, but nothing happened: no such route, no such method, an invalid body.
    author = site.as_role("author")
    assert site.client.post("/api/v1/nothing-here", headers={**author, "Idempotency-Key": "d1"}).status_code == 404
    assert site.client.post("/api/v1/audit", headers={**author, "Idempotency-Key": "d2"}).status_code == 405
    invalid = site.client.post("/api/v1/incidents", json={"title": ""}, headers={**author, "Idempotency-Key": "d3"})
    assert invalid.status_code == 422
    assert kept_keys(settings) == 0
    # The same key, now with a valid body: it acts (the 422 was not kept), and is kept for a retry.
    body = {"title": "Payments slow", "impact": "minor"}
    opened = site.client.post("/api/v1/incidents", json=body, headers={**author, "Idempotency-Key": "d3"})
    again = site.client.post("/api/v1/incidents", json=body, headers={**author, "Idempotency-Key": "d3"})
    assert opened.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert kept_keys(settings) == 1


def test_made_up_tokens_count_on_the_client_address(database_url):
    site = install(make_settings(database_url, api_rate="3/minute"), dispatch=lambda settings_, ids: None)
    answers = [site.client.get("/api/v1/incidents", headers={"Authorization": f"Bearer bct_made_up_{i}"})
               for i in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert site.client.get("/api/v1/incidents").status_code == 429  # no token at all: the same address
    # A real token from that address is a caller of its own, however its scheme is spelt.
    token = site.tokens["author"]
    spelt = [site.client.get("/api/v1/incidents", headers={"Authorization": f"{scheme} {token}"}).status_code
             for scheme in ("Bearer", "bearer", "BEARER", "bEaReR")]
    assert spelt == [200, 200, 200, 429]


def test_the_limit_and_the_route_read_a_token_once(settings):
    site = install(settings, dispatch=lambda settings_, ids: None)
    statements = []

    def seen(connection, cursor, statement, *args):
        statements.append(statement)
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        answer = site.client.get("/api/v1/incidents", headers=site.as_role("author"))
        refused = site.client.get("/api/v1/incidents", headers={"Authorization": "Bearer bct_made_up"})
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert (answer.status_code, refused.status_code) == (200, 401)
    assert sum("FROM api_tokens" in s for s in statements) == 2, statements


def test_a_database_away_during_the_check_is_answered_by_the_route(settings, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from broadcaster.people import auth

    site = install(settings, dispatch=lambda settings_, ids: None)

    def away(settings_, secret):
        raise OperationalError("SELECT api_tokens", {}, ConnectionRefusedError("the server went away"))
    monkeypatch.setattr(auth, "token_actor", away)
    answer = site.client.get("/api/v1/incidents", headers=site.as_role("author"))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_token_already_over_its_limit_is_refused_without_reading_it(database_url):
    site = install(make_settings(database_url, api_rate="3/minute"), dispatch=lambda settings_, ids: None)
    author, statements = site.as_role("author"), []

    def seen(connection, cursor, statement, *args):
        statements.append(statement)
    answers = [site.client.get("/api/v1/incidents", headers=author).status_code for _ in range(3)]
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        answers += [site.client.get("/api/v1/incidents", headers=author).status_code for _ in range(5)]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert answers == [200] * 3 + [429] * 5
    assert statements == []  # refused from the counters alone


def test_a_second_authorization_header_is_not_a_second_caller(settings):
    """The route reads the first header; the limit and the idempotency record read the same one. Read as
    the last, a valid token then junk was an unproven caller to the middleware: the retry acted twice."""
    site = install(settings, dispatch=lambda settings_, ids: None)
    token = site.tokens["author"]
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer junk"), ("Idempotency-Key", "k1")]
    body = {"title": "Payments slow", "impact": "minor"}
    first = site.client.post("/api/v1/incidents", json=body, headers=headers)
    again = site.client.post("/api/v1/incidents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["id"] == first.json()["id"]
    assert kept_keys(settings) == 1
