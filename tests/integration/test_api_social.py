"""/api/v1/social against the fake X server (tweepy over HTTP), on SQLite and PostgreSQL: the same use
cases as `broadcaster social ...`, their refusals as problem details in the CLI's words."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from broadcaster import social
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing
from tests.conftest import actor, make_settings
from tests.fakes.x_server import x_settings
from tests.integration.api_fixtures import install
from tests.integration.engine import approved_statement

PROBLEM = "application/problem+json"


@pytest.fixture
def site(social_site):
    return social_site  # the installation, its statement live on the fake X (tests/integration/conftest.py)


def call(site, method: str, path: str, role: str = "social", **kwargs):
    return site.client.request(method, f"/api/v1/social{path}", headers=site.as_role(role), **kwargs)


def pulled(site, x, text: str = "@acme is login down?") -> str:
    post = x.mention(text)
    assert call(site, "POST", "/pull").json()["new"] == 1
    return post


def test_a_reply_queued_through_the_api_is_one_reply_on_x_with_the_approved_words(site, x):
    post = pulled(site, x)
    [inbox_row] = call(site, "GET", "/inbox").json()["posts"]
    assert (inbox_row["id"], inbox_row["state"], inbox_row["incident_id"]) == (post, "new", site.incident_id)
    [live] = call(site, "GET", "/variants").json()
    assert (live["incident_id"], live["version"], [v["number"] for v in live["variants"]]) == (
        site.incident_id, 1, [1, 2, 3])

    queued = call(site, "POST", f"/posts/{post}/reply", json={"variant": 2})

    assert queued.status_code == 202, queued.text
    [sent] = x.replies_to(post)
    assert sent["text"] == queued.json()["text"] == live["variants"][1]["text"]
    [row] = call(site, "GET", "/replies", params={"state": "replied"}).json()["replies"]
    assert (row["post_id"], row["queued_by"], row["variant"], row["text"]) == (post, "sam", 2, sent["text"])
    assert row["reply_url"] == f"https://x.com/i/web/status/{sent['id']}" and row["post_url"].endswith(post)
    [after] = call(site, "GET", "/inbox").json()["posts"]
    assert (after["state"], after["picked_by"]) == ("replied", "sam")


def test_a_human_only_post_cannot_be_answered_through_the_api(site, x):
    stranger = x.stranger("login is down at acme again")
    found = call(site, "POST", "/search", json={"query": "login down"}).json()
    assert (found["new"], found["human_only"]) == (1, 1)

    refused = call(site, "POST", f"/posts/{stranger}/reply", json={})
    free_text = call(site, "POST", f"/posts/{stranger}/free-text", json={"text": "Sorry! Try the mobile app."})

    for answer in (refused, free_text):
        assert answer.status_code == 403 and answer.headers["content-type"] == PROBLEM
        assert "human-only lane" in answer.json()["detail"]
        assert f"answer it by hand at https://x.com/someone/status/{stranger}" in answer.json()["detail"]
    assert x.replies_to(stranger) == [] and x.forbidden_replies == []
    [row] = call(site, "GET", "/inbox", params={"lane": "human_only"}).json()["posts"]
    assert row["state"] == "human-only"


def test_free_text_through_the_api_is_refused_until_an_approver_approves_those_words(site, x):
    post = pulled(site, x)
    words = "Hi! The mobile app works while we fix logins."

    proposed = call(site, "POST", f"/posts/{post}/free-text", json={"text": words})

    assert proposed.status_code == 201 and proposed.json()["state"] == "awaiting approval"
    digest = proposed.json()["hash"]
    assert x.replies_to(post) == []
    assert call(site, "GET", "/inbox").json()["posts"][0]["state"] == "awaiting approval"
    by_social = call(site, "POST", f"/posts/{post}/free-text/approve", json={"content_hash": digest})
    assert by_social.status_code == 403 and "needs role approver" in by_social.json()["detail"]
    again = call(site, "POST", f"/posts/{post}/reply", json={}, role="tess")
    assert again.status_code == 403 and "already has a reply, queued by sam" in again.json()["detail"]
    [waiting] = call(site, "GET", "/free-text", role="approver").json()["replies"]
    assert (waiting["text"], waiting["hash"], waiting["queued_by"]) == (words, digest, "sam")
    stale = call(site, "POST", f"/posts/{post}/free-text/approve", role="approver", json={"content_hash": "0" * 12})
    assert stale.status_code == 403 and "read it again and approve what you see" in stale.json()["detail"]
    assert x.replies_to(post) == []

    approved = call(site, "POST", f"/posts/{post}/free-text/approve", role="approver",
                    json={"content_hash": digest[:12]})

    assert approved.status_code == 202, approved.text
    assert [r["text"] for r in x.replies_to(post)] == [words]
    assert call(site, "GET", "/free-text", role="approver").json()["replies"] == []


def test_queueing_one_post_twice_at_once_through_the_api_sends_one_reply(site, x):
    post = pulled(site, x)
    start = threading.Barrier(2)

    def queue(role: str):
        client = TestClient(site.client.app, raise_server_exceptions=False)  # a browser tab each
        start.wait()
        return client.post(f"/api/v1/social/posts/{post}/reply", json={}, headers=site.as_role(role))

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(queue, ["social", "tess"]))

    assert sorted(a.status_code for a in answers) == [202, 403], [a.text for a in answers]
    [refusal] = [a.json()["detail"] for a in answers if a.status_code == 403]
    assert "one reply per post" in refusal
    assert len(x.replies_to(post)) == 1
    late = call(site, "POST", f"/posts/{post}/reply", json={"variant": 3})
    assert late.status_code == 403 and "already has a reply" in late.json()["detail"]
    assert len(x.replies_to(post)) == 1


def test_a_held_reply_is_listed_held_then_re_based_on_the_new_version(site, x):
    post = pulled(site, x)
    site.client.app.state.dispatch = lambda settings, ids: None  # queued, not sent yet
    call(site, "POST", f"/posts/{post}/reply", json={"variant": 1})
    settings = site.settings
    second = approved_statement(settings, "We found the cause", incident_id=site.incident_id)
    publishing.publish(settings, actor(settings, "alice"), second, dispatch=send_now)

    [held] = call(site, "GET", "/replies", params={"state": "held"}).json()["replies"]
    assert (held["post_id"], held["version"], held["rebased_from_version"]) == (post, 1, None)
    assert social.rebase_held(settings, dispatch=send_now) == 1

    [row] = call(site, "GET", "/replies").json()["replies"]
    assert (row["state"], row["version"], row["rebased_from_version"]) == ("replied", 2, 1)
    assert "re-based from v1 to v2" in row["note"] and "We found the cause" in row["text"]
    assert [r["text"] for r in x.replies_to(post)] == [row["text"]]


def test_a_reply_naming_a_version_no_longer_live_is_a_409_with_the_new_words(site, x):
    post = pulled(site, x)
    [shown] = call(site, "GET", "/variants").json()
    settings = site.settings
    second = approved_statement(settings, "We found the cause", incident_id=site.incident_id)
    publishing.publish(settings, actor(settings, "alice"), second, dispatch=send_now)

    stale = call(site, "POST", f"/posts/{post}/reply", json={"variant": 1, "statement_id": shown["statement_id"]})

    assert stale.status_code == 409 and stale.headers["content-type"] == PROBLEM, stale.text
    [live] = call(site, "GET", "/variants").json()
    assert "the words changed" in stale.json()["detail"] and live["variants"][0]["text"] in stale.json()["detail"]
    assert x.replies_to(post) == []
    fresh = call(site, "POST", f"/posts/{post}/reply", json={"variant": 1, "statement_id": live["statement_id"]})
    assert fresh.status_code == 202 and [r["text"] for r in x.replies_to(post)] == [live["variants"][0]["text"]]


def a_busy_inbox(settings, posts: int, human_only: int) -> list[str]:
    """An outage's worth of mentions (and search matches), written straight into the inbox."""
    from datetime import timedelta

    from broadcaster.store.db import transaction
    from broadcaster.store.models import utcnow
    from broadcaster.store.social_models import SocialPost

    ids = [str(1870000000000000000 + i) for i in range(posts + human_only)]
    with transaction(settings.database_url) as s:
        s.add_all(SocialPost(id=post, author_username="customer", text=f"@acme down? {i}", lane="mention"
                             if i < posts else "human_only", found_by="mentions", pulled_at=utcnow(),
                             posted_at=utcnow() - timedelta(seconds=i)) for i, post in enumerate(ids))
    return ids


def test_the_inbox_and_the_replies_are_counted_filtered_and_paged_by_the_database(site, x):
    """Thousands of mentions in an outage: a page reads its own rows, whatever the inbox holds."""
    from sqlalchemy import event

    from broadcaster.store.social_models import SocialPost

    ids = a_busy_inbox(site.settings, 250, 30)
    site.client.app.state.dispatch = lambda settings, ids: None  # queued, not sent
    for post in ids[:12]:
        assert call(site, "POST", f"/posts/{post}/reply", json={}).status_code == 202
    call(site, "POST", f"/posts/{ids[12]}/skip")
    loaded = []

    def count(target, _context):
        loaded.append(target.id)

    event.listen(SocialPost, "load", count)
    try:
        page = call(site, "GET", "/inbox", params={"state": "new", "limit": 10, "offset": 20}).json()
        replies = call(site, "GET", "/replies", params={"state": "queued", "limit": 5, "offset": 10}).json()
    finally:
        event.remove(SocialPost, "load", count)
    assert len(loaded) <= 10 + 5, len(loaded)  # never the whole inbox
    assert [p["id"] for p in page["posts"]] == ids[13 + 20:13 + 30] and page["total"] == 250 - 13
    assert (page["next_offset"], page["counts"]["new"], page["counts"]["queued"]) == (30, 237, 12)
    assert (page["counts"]["skipped"], page["counts"]["human-only"], page["budget"]["queued"]) == (1, 30, 12)
    assert [r["post_id"] for r in replies["replies"]] == list(reversed(ids[:12]))[10:12]
    assert (replies["total"], replies["next_offset"]) == (12, None)


def test_the_budget_says_how_many_replies_can_go_now_and_keeps_the_statements_reserve(site, x):
    budget = call(site, "GET", "/budget").json()
    # The statement's post told us the window: 99 of 100 left; 20 are kept for statements.
    assert (budget["window_limit"], budget["window_remaining"], budget["reserved_for_statements"],
            budget["replies_now"], budget["queued"]) == (100, 99, 20, 79, 0)
    assert budget["window_resets_at"] is not None  # the statement's post started a window: it ends at a fixed time
    in_inbox = call(site, "GET", "/inbox").json()["budget"]
    assert {k: v for k, v in in_inbox.items() if k != "all_sent_by"} == {  # "all sent by": now, a moment later
        k: v for k, v in budget.items() if k != "all_sent_by"}


def test_before_any_post_in_a_window_the_budget_names_no_reset_time(site, x, monkeypatch):
    """No window runs (no post since the last one ended): the full budget, and `window_resets_at` null
    rather than 'now + 15 minutes', which moved with every read."""
    from broadcaster.channels import _xbudget

    monkeypatch.setitem(_xbudget._memory.states, _xbudget._key(site.settings.x_access_token), {})
    reads = [call(site, "GET", "/budget").json() for _ in range(2)]
    assert [b["window_resets_at"] for b in reads] == [None, None]
    assert all(b["window_remaining"] == b["window_limit"] and b["replies_now"] == b["replies_per_window"] > 0
               for b in reads)  # the whole window, less the statements' reserve


def test_refusals_are_problem_details_in_the_cli_words(site, x):
    post = pulled(site, x)
    cases = [
        (call(site, "GET", "/inbox", params={"state": "pending"}), 422, "state: Input should be 'new', 'queued'"),
        (call(site, "POST", "/posts/1860000000000009999/reply", json={}), 404, "not in the inbox"),
        (call(site, "POST", f"/posts/{post}/reply", json={"variant": 9}), 422, "has variants 1, 2, 3; got 9"),
        (call(site, "POST", "/posts/not-a-post/skip"), 422, "post_id"),
        (call(site, "POST", "/search", json={"query": "   "}), 422, "query: must say something (not only spaces)"),
        (call(site, "POST", f"/posts/{post}/free-text", json={"text": "x" * 300}), 422, "weighted length is 300"),
    ]
    for answer, status, words in cases:
        assert answer.status_code == status and answer.headers["content-type"] == PROBLEM, answer.text
        assert words in answer.json()["detail"], answer.json()
    assert call(site, "GET", "/inbox", params={"state": "pending"}).json()["field"] == "state"
    assert call(site, "POST", f"/posts/{post}/reply", json={"variant": 9}).json()["field"] == "variant"
    assert x.replies_to(post) == []


def test_pull_when_x_does_not_answer_is_a_502_saying_so(database_url, x):
    settings = make_settings(database_url, **{**x_settings(x), "x_api_base": "http://127.0.0.1:9"})  # nothing there
    site = install(settings)
    answer = site.client.post("/api/v1/social/pull", headers=site.as_role("social"))
    assert answer.status_code == 502 and answer.headers["content-type"] == PROBLEM
    assert answer.json()["detail"].startswith("cannot reach X")


def test_the_social_endpoints_are_documented_in_openapi(site):
    paths = site.client.get("/openapi.json").json()["paths"]
    social_paths = {path for path in paths if path.startswith("/api/v1/social/")}
    assert len(social_paths) == 11
    for path in social_paths:
        for operation in paths[path].values():
            assert operation["tags"] == ["social replies"] and operation["description"], path
