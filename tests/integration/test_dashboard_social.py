"""The dashboard's social page through HTTP as a browser uses it, against the fake X server: the inbox
with states, the live statement's approved words, queueing with a chosen variant, skipping, the queue
with held and re-based replies flagged, sent replies with their links, the human-only lane (a link to
answer by hand, never an API reply), the budget; CSRF on every form; the page only for its roles."""

import html
import re
import time

import pytest
from sqlalchemy import select

from broadcaster import social
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import publishing
from broadcaster.people import auth
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, Delivery
from tests.conftest import actor
from tests.integration.engine import approved_statement
from tests.integration.test_dashboard import PASSWORD, csrf_of


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the pages' behaviour does not depend on the database; the API tests run on both


@pytest.fixture
def site(social_site):
    for name in ("alice", "bob", "sam", "tess", "root"):
        auth.set_password(social_site.settings, name, PASSWORD)
    return social_site


def log_in(client, name: str) -> str:
    """Logs in (each user lands on their home page); returns the session's CSRF token."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    landed = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert landed.status_code == 200, landed.text
    return csrf_of(landed.text)


def variants(site) -> list[str]:
    [live] = social.live_variants(site.settings)
    return [v["text"] for v in live["variants"]]


def test_the_social_page_lists_the_inbox_the_approved_words_the_human_only_lane_and_the_budget(site, x):
    mention = x.mention("@acme is login down for everyone?")
    stranger = x.stranger("acme login down again, ugh")
    social.pull(site.settings)
    social.search(site.settings, actor(site.settings, "sam"), "login down")
    log_in(site.client, "sam")

    shown = site.client.get("/dashboard/social")

    assert shown.status_code == 200 and shown.url.path == "/dashboard/social"
    card = re.search(rf'<article class="card"[^>]*id="post-{mention}">(.*?)</article>', shown.text, re.S).group(1)
    assert "@acme is login down for everyone?" in card and '<span class="state new">new</span>' in card
    assert f'action="/dashboard/social/posts/{mention}/reply"' in card
    for words in variants(site):
        assert html.escape(words) in shown.text  # every approved variant, word for word
    lane = re.search(rf'<article class="card"[^>]*id="human-{stranger}">(.*?)</article>', shown.text, re.S).group(1)
    assert "acme login down again, ugh" in lane
    assert f'href="https://x.com/intent/post?in_reply_to={stranger}"' in lane and "Answer by hand on X" in lane
    assert f"/dashboard/social/posts/{stranger}/reply" not in shown.text  # never an API reply button there
    assert re.search(r'Replies that can go now: <strong id="replies-now">79</strong>', shown.text)
    nav = re.search(r"<header>(.*?)</header>", shown.text, re.S).group(1)
    assert 'href="/dashboard/social"' in nav and 'href="/dashboard/send-log"' not in nav


def test_queueing_a_chosen_variant_from_the_page_sends_one_reply_and_lists_it_as_sent(site, x):
    post = x.mention()
    social.pull(site.settings)
    csrf = log_in(site.client, "sam")

    answer = site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "3"})

    assert answer.status_code == 200 and f"reply to {post} queued: v1 variant 3" in answer.text
    [sent] = x.replies_to(post)
    assert sent["text"] == variants(site)[2]
    card = re.search(rf'<article class="card"[^>]*id="sent-{post}">(.*?)</article>', answer.text, re.S).group(1)
    assert f'href="https://x.com/i/web/status/{sent["id"]}"' in card and html.escape(sent["text"]) in card
    assert f'href="https://x.com/customer/status/{post}"' in card and "v1 variant 3 · by sam" in card
    again = site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "1"})
    assert "already has a reply, queued by sam" in html.unescape(again.text) and len(x.replies_to(post)) == 1


def test_a_queue_form_without_the_csrf_token_is_refused_and_audited(site, x):
    post = x.mention()
    social.pull(site.settings)
    log_in(site.client, "sam")

    answer = site.client.post(f"/dashboard/social/posts/{post}/reply", data={"variant": "1"})

    assert answer.status_code == 403 and "security token" in answer.text
    assert x.replies_to(post) == []
    with transaction(site.settings.database_url) as s:
        assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "refused: form"
    assert social.inbox(site.settings)["posts"][0]["state"] == "new"


def test_a_reply_from_a_page_showing_words_no_longer_live_is_refused_and_the_page_shows_the_new_ones(site, x):
    post = x.mention()
    social.pull(site.settings)
    csrf = log_in(site.client, "sam")
    page = site.client.get("/dashboard/social").text
    form = re.search(rf'action="/dashboard/social/posts/{post}/reply"(.*?)</form>', page, re.S).group(1)
    shown = re.search(r'name="statement_id" value="(\d+)"', form).group(1)
    settings = site.settings
    second = approved_statement(settings, "We found the cause", incident_id=site.incident_id)
    publishing.publish(settings, actor(settings, "alice"), second, dispatch=send_now)

    answer = site.client.post(f"/dashboard/social/posts/{post}/reply",
                              data={"csrf_token": csrf, "variant": "2", "statement_id": shown})

    error = re.search(r'<div class="flash error" role="alert">(.*?)</div>', answer.text, re.S).group(1)
    assert "the words changed" in error and html.escape(variants(site)[1]) in error
    assert x.replies_to(post) == [] and f'name="statement_id" value="{second}"' in answer.text


def test_the_page_reads_one_page_of_each_section_however_many_posts_the_outage_brings(site, x):
    from sqlalchemy import event

    from broadcaster.store.social_models import SocialPost
    from broadcaster.web.dashboard.social import PAGE_SIZE
    from tests.integration.test_api_social import a_busy_inbox

    ids = a_busy_inbox(site.settings, 300, 60)
    for post in ids[:PAGE_SIZE + 5]:  # more queued replies than one page holds
        social.reply(site.settings, actor(site.settings, "sam"), post, dispatch=lambda settings, ids: None)
    log_in(site.client, "sam")
    loaded = []

    def count(target, _context):
        loaded.append(target.id)

    event.listen(SocialPost, "load", count)
    try:
        shown = site.client.get("/dashboard/social")
    finally:
        event.remove(SocialPost, "load", count)

    assert shown.status_code == 200 and len(loaded) <= 4 * PAGE_SIZE, len(loaded)  # not 2 x 360 posts
    assert f'href="#queue">Queue ({PAGE_SIZE + 5})' in shown.text
    assert len(re.findall(r'id="queued-\d', shown.text)) == PAGE_SIZE
    assert len(re.findall(r'id="human-\d', shown.text)) == PAGE_SIZE
    assert f'href="?queue_offset={PAGE_SIZE}#queue"' in shown.text
    assert f'href="?human_offset={PAGE_SIZE}#human-only"' in shown.text
    older = site.client.get(f"/dashboard/social?queue_offset={PAGE_SIZE}").text
    assert len(re.findall(r'id="queued-\d', older)) == 5 and f'id="queued-{ids[0]}"' in older  # the oldest queued, last
    human = site.client.get(f"/dashboard/social?human_offset={PAGE_SIZE}").text
    assert len(re.findall(r'id="human-\d', human)) == 10 and f'id="human-{ids[-1]}"' in human


def test_a_user_without_the_social_role_gets_403_and_no_social_link(site, x):
    post = x.mention()
    social.pull(site.settings)
    csrf = log_in(site.client, "alice")  # an author
    assert 'href="/dashboard/social"' not in site.client.get("/dashboard").text

    page = site.client.get("/dashboard/social")
    queued = site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "1"})

    assert page.status_code == 403 and "alice cannot read social: needs role admin or social" in page.text
    assert "needs role social" in html.unescape(queued.text) and x.replies_to(post) == []


def test_the_social_team_reads_no_incident_pages_or_send_log(site):
    log_in(site.client, "sam")
    for path in ("/dashboard/send-log", "/dashboard/consistency", f"/dashboard/statements/{site.statement_id}"):
        answer = site.client.get(path)
        assert answer.status_code == 403 and "sam cannot read: needs role" in answer.text, path
    assert site.client.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/social"


def test_skip_from_the_page_and_mark_a_human_only_post_answered_by_hand(site, x):
    post, stranger = x.mention(), x.stranger("login down at acme")
    social.pull(site.settings)
    social.search(site.settings, actor(site.settings, "sam"), "login down")
    csrf = log_in(site.client, "tess")

    site.client.post(f"/dashboard/social/posts/{post}/skip", data={"csrf_token": csrf})
    shown = site.client.post(f"/dashboard/social/posts/{stranger}/skip", data={"csrf_token": csrf})

    card = re.search(rf'id="post-{post}">(.*?)</article>', shown.text, re.S).group(1)
    assert '<span class="state skipped">skipped</span>' in card and "skipped by tess" in card
    assert f'action="/dashboard/social/posts/{post}/reply"' not in card
    lane = re.search(rf'id="human-{stranger}">(.*?)</article>', shown.text, re.S).group(1)
    assert "answered by hand by tess" in lane and "Mark as answered by hand" not in lane
    assert x.created == [x.created[0]]  # the statement's post only: nothing was answered through the API


def test_a_held_reply_is_flagged_and_once_re_based_says_the_words_changed(site, x):
    post = x.mention()
    social.pull(site.settings)
    site.client.app.state.dispatch = lambda settings, ids: None  # queued, not sent yet
    csrf = log_in(site.client, "sam")
    site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "1"})
    settings = site.settings
    second = approved_statement(settings, "We found the cause", incident_id=site.incident_id)
    publishing.publish(settings, actor(settings, "alice"), second, dispatch=send_now)

    held = site.client.get("/dashboard/social").text
    queue = re.search(rf'id="queued-{post}">(.*?)</article>', held, re.S).group(1)
    assert '<span class="state held">held</span>' in queue and "v1 was superseded" in queue

    social.rebase_held(settings)  # beat's job; dispatch: nothing is sent yet
    rebased = site.client.get("/dashboard/social").text
    queue = re.search(rf'id="queued-{post}">(.*?)</article>', rebased, re.S).group(1)
    assert "The words changed: re-based on v2 (queued on v1)." in queue and "We found the cause" in queue


def test_free_text_proposed_on_the_page_is_approved_from_the_approvers_inbox(site, x):
    post = x.mention()
    social.pull(site.settings)
    sam = log_in(site.client, "sam")
    words = "Hi! The mobile app works while we fix logins."
    proposed = site.client.post(f"/dashboard/social/posts/{post}/free-text", data={"csrf_token": sam, "text": words})
    assert f"free text for {post} waits for an approver" in proposed.text and x.replies_to(post) == []

    bob = log_in(site.client, "bob")
    inbox = site.client.get("/dashboard/inbox").text
    card = re.search(rf'id="free-text-{post}">(.*?)</section>', inbox, re.S).group(1)
    digest = re.search(r'name="content_hash" value="([0-9a-f]{64})"', card).group(1)
    assert html.escape(words) in card and digest in card and "sam proposes" in card
    answer = site.client.post(f"/dashboard/social/posts/{post}/free-text/approve",
                              data={"csrf_token": bob, "content_hash": digest})

    assert answer.url.path == "/dashboard/inbox" and "approved and queued" in answer.text
    assert [r["text"] for r in x.replies_to(post)] == [words]


def test_a_refused_reply_is_said_in_the_posts_card_where_the_page_opens(site, x):
    """After a Reply the browser scrolls to the post's card (#post-N); a refusal said only at the top of
    the page is out of sight there, on a phone by several screens."""
    post = x.mention("@acme is login down?")
    social.pull(site.settings)
    csrf = log_in(site.client, "sam")
    site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "1"})
    again = site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "2"},
                             follow_redirects=False)
    assert again.headers["location"] == f"/dashboard/social?refused={post}#post-{post}"
    page = site.client.get(again.headers["location"]).text
    card = re.search(rf'<article class="card"[^>]*id="post-{post}">(.*?)</article>', page, re.S).group(1)
    # when, as every time on the page says it (not 2026-12-07T04:42:49+00:00)
    assert re.search(r'<p class="flag refused">Refused: post \d+ already has a reply, queued by sam at '
                     r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: one reply per post</p>', card)
    assert len(x.replies_to(post)) == 1


def test_a_reply_that_failed_says_it_was_not_sent_and_why(site, x):
    post = x.mention("@acme is login down?")
    social.pull(site.settings)
    csrf = log_in(site.client, "sam")
    queued = site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "1"})
    assert queued.status_code == 200
    with transaction(site.settings.database_url) as s:  # as the engine records a refusal for good
        delivery = s.scalar(select(Delivery).where(Delivery.channel == "reply", Delivery.target == post))
        delivery.status, delivery.error_message = "failed", "X refused the reply (403): the author blocked the account"
    queue = site.client.get("/dashboard/social").text.split('id="queue"')[1].split('id="sent"')[0]
    assert "Not sent: X refused the reply (403): the author blocked the account" in html.unescape(queue)
    assert re.search(r"queued by sam \d{4}-\d\d-\d\d \d\d:\d\d UTC", queue)  # every time on the page says its zone


def test_a_failed_reply_says_why_on_the_posts_card_where_the_inbox_shows_it(site, x):
    post = x.mention("@acme is login down?")
    social.pull(site.settings)
    csrf = log_in(site.client, "sam")
    site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "1"})
    with transaction(site.settings.database_url) as s:
        delivery = s.scalar(select(Delivery).where(Delivery.channel == "reply", Delivery.target == post))
        delivery.status, delivery.error_message = "failed", "X refused the reply (403): the author blocked the account"
    page = html.unescape(site.client.get("/dashboard/social?state=failed").text)
    card = re.search(rf'<article class="card"[^>]*id="post-{post}">(.*?)</article>', page, re.S).group(1)
    assert "Not sent: X refused the reply (403): the author blocked the account" in card


def test_a_tampered_reply_is_said_in_plain_words_with_what_to_do_and_the_detail_one_click_away(site, x):
    post = x.mention("@acme is login down?")
    social.pull(site.settings)
    csrf = log_in(site.client, "sam")
    site.client.post(f"/dashboard/social/posts/{post}/reply", data={"csrf_token": csrf, "variant": "1"})
    detail = ("stored reply rendition no longer matches the approval: content hashes to 3f9a1c0b7e22, "
              "sealed approvals cover 5bf9533450a5; refused")
    with transaction(site.settings.database_url) as s:  # as the engine records a tampered rendition
        delivery = s.scalar(select(Delivery).where(Delivery.channel == "reply", Delivery.target == post))
        delivery.status, delivery.error_code, delivery.error_message = "failed", "tampered", detail
    page = site.client.get("/dashboard/social").text
    card = re.search(rf'<article class="card"[^>]*id="post-{post}">(.*?)</article>', page, re.S).group(1)
    queued = re.search(rf'id="queued-{post}">(.*?)</article>', page, re.S).group(1)
    for shown in (card, queued):
        said = html.unescape(re.sub(r"<details>.*?</details>", "", shown, flags=re.S))
        assert "no longer match the words an approver approved, so nothing went to X" in said
        assert "Ask the comms team to have the statement approved again" in said
        assert f"https://x.com/intent/post?in_reply_to={post}" in said  # the one way left to answer it
        assert "hashes to" not in said and "sealed" not in said  # the engine's words only under "Technical detail"
        assert re.search(r"<details><summary>Technical detail</summary>.*3f9a1c0b7e22", shown, re.S)


def test_a_refused_skip_in_the_human_only_lane_goes_back_to_that_lanes_card(site, x):
    stranger = x.stranger("acme login down again, ugh")
    social.search(site.settings, actor(site.settings, "sam"), "login down")
    csrf = log_in(site.client, "root")  # reads the page, may not mark posts answered (the social role's)
    refused = site.client.post(f"/dashboard/social/posts/{stranger}/skip",
                               data={"csrf_token": csrf, "lane": "human_only"}, follow_redirects=False)
    assert refused.headers["location"] == f"/dashboard/social?refused={stranger}#human-{stranger}"
    page = site.client.get(refused.headers["location"]).text
    card = re.search(rf'<article class="card"[^>]*id="human-{stranger}">(.*?)</article>', page, re.S).group(1)
    assert '<p class="flag refused">Refused:' in card
    csrf = log_in(site.client, "sam")
    done = site.client.post(f"/dashboard/social/posts/{stranger}/skip",
                            data={"csrf_token": csrf, "lane": "human_only"}, follow_redirects=False)
    assert done.headers["location"].endswith("#human-only")
    page = site.client.get("/dashboard/social").text
    lane = re.search(rf'id="human-{stranger}">(.*?)</article>', page, re.S).group(1)
    assert 'name="lane" value="human_only"' not in lane and "answered by hand by sam" in lane


def test_the_budget_says_when_it_was_read_and_a_reset_to_the_second_never_before_it_comes(site, x, monkeypatch):
    from datetime import datetime

    from broadcaster.channels import _xbudget

    reset = time.time() + 100.4
    monkeypatch.setitem(_xbudget._memory.states, _xbudget._key(site.settings.x_access_token),
                        {"limit": 100.0, "remaining": 60.0, "reset": reset})
    log_in(site.client, "sam")
    page = site.client.get("/dashboard/social").text
    said = re.search(r"id=\"window-resets\" data-at=\"([^\"]+)\">X's window resets at (\d\d:\d\d:\d\d) UTC\.", page)
    assert said, page.split('id="budget"')[1][:800]
    assert datetime.fromisoformat(said.group(1)).timestamp() >= reset  # rounded up, not down
    assert said.group(2) == said.group(1)[11:19]
    assert re.search(r"\(at \d\d:\d\d:\d\d UTC, when this page was read; window 60 of 100 left", page)
    assert 'id="window-reset-passed" hidden' in page  # the page's clock reveals it when the reset comes


def test_before_any_post_in_a_window_the_budget_is_whole_and_names_no_reset_time(site, x, monkeypatch):
    """No post since the last window ended: the page named 'now + 15 minutes' as the reset, a time that moved
    with every refresh. It says the full budget is there and that the window starts with the next post."""
    from broadcaster.channels import _xbudget

    monkeypatch.setitem(_xbudget._memory.states, _xbudget._key(site.settings.x_access_token), {})
    log_in(site.client, "sam")
    pages = [site.client.get("/dashboard/social").text for _ in range(2)]
    budgets = [re.search(r'<section class="card" id="budget">(.*?)</section>', page, re.S).group(1) for page in pages]
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", "", budgets[0])).split())
    limit, seconds = _xbudget._assumed_window(site.settings)
    assert f"window {limit} of {limit} left" in words
    assert ("No post has gone out in X's current window, so the window's full budget is there. The window "
            f"({'1 second' if seconds == 1 else f'{seconds / 60:.0f} minutes'}) starts with the next post, a reply "
            "or a statement.") in words
    assert "resets at" not in words and "data-at" not in budgets[0] and "window-reset-passed" not in pages[0]
    at_read = re.compile(r"at \d\d:\d\d:\d\d UTC, when this page was read")
    assert at_read.sub("", budgets[0]) == at_read.sub("", budgets[1])  # nothing in it moves with a refresh


def test_replies_queued_while_the_statements_reserve_takes_the_whole_budget_say_so(site, x, monkeypatch):
    """X allows no replies at all in a window (its limit under the statements' reserve): no time is true for
    the queued ones, and the page says why instead of failing on a time it does not have."""
    import importlib

    inbox = importlib.import_module("broadcaster.social.inbox")  # the package's `inbox` is its function
    real = inbox.reply_budget
    monkeypatch.setattr(inbox, "reply_budget", lambda settings, queued: real(settings, queued + 3))
    real_x = inbox.x_budget
    monkeypatch.setattr(inbox, "x_budget",
                        lambda settings: {**real_x(settings), "replies_now": 0, "replies_per_window": 0})
    log_in(site.client, "sam")
    page = site.client.get("/dashboard/social")
    assert page.status_code == 200
    budget = re.search(r'<section class="card" id="budget">(.*?)</section>', page.text, re.S).group(1)
    assert ("the other 3 none can go for now" not in budget
            and "none can go for now: the statements' reserve takes all of X's budget" in " ".join(budget.split()))


def test_before_any_post_a_daily_cap_that_holds_replies_back_is_said(site, x, monkeypatch):
    """The window's budget is whole, but X's daily cap lets fewer replies go: the page says both, not only
    that the full budget is there beside "Replies that can go now: 0"."""
    import importlib

    from broadcaster.channels import _xbudget

    monkeypatch.setitem(_xbudget._memory.states, _xbudget._key(site.settings.x_access_token),
                        {"day_limit": 100.0, "day_remaining": 0.0, "day_reset": time.time() + 3600})
    inbox = importlib.import_module("broadcaster.social.inbox")  # the package's `inbox` is its function
    real_x = inbox.x_budget
    monkeypatch.setattr(inbox, "x_budget", lambda settings: {**real_x(settings), "replies_now": 0,
                                                             "day_remaining": 0, "window_resets_at": None})
    log_in(site.client, "sam")
    budget = re.search(r'<section class="card" id="budget">(.*?)</section>',
                       site.client.get("/dashboard/social").text, re.S).group(1)
    assert "though X's daily cap (0 posts left today) lets fewer replies go now" in " ".join(budget.split())
