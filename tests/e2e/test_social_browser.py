"""The social page in a real Chromium on a phone-sized screen: a member of the social team logs in, pulls
the mentions, sees a customer's post, queues a reply with a chosen approved variant, and sees it sent
(by the embedded worker, as `broadcaster serve` runs it, through tweepy to the fake X server). The
screenshot is a test artifact; UPDATE_SCREENSHOTS=1 also copies it to docs/screenshots/."""

import time

import pytest

from broadcaster.approvals import decisions
from broadcaster.channels import _xbudget
from broadcaster.incidents import publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import auth
from tests.conftest import actor, add_user
from tests.e2e.conftest import PASSWORD, accessible, keep_screenshots, log_in, small_text
from tests.fakes.x_server import running_x, x_settings
from tests.harness import wait_until
from tests.integration.engine import as_env


@pytest.fixture
def x():
    _xbudget._memory.states.clear()
    with running_x() as fake:
        yield fake
    _xbudget._memory.states.clear()


@pytest.fixture
def embedded_env(x) -> dict[str, str]:
    return as_env({**x_settings(x), "x_rate": "100000/second"})  # X set up: the fake, through tweepy


def test_a_social_user_queues_a_reply_to_a_mention_and_sees_it_sent(embedded, browser, serve_app, x, tmp_path):
    settings = embedded
    for name, role in (("alice", "author"), ("bob", "approver"), ("sam", "social")):
        add_user(settings, name, [role])
    auth.set_password(settings, "sam", PASSWORD)
    alice = actor(settings, "alice")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])
    draft = statements.draft(settings, alice, incident["id"], StatementInput(
        headline="Some customers cannot log in", body="About 1 in 5 logins fail.",
        workaround="Use the mobile app", next_update="30m"))
    submitted = statements.submit(settings, alice, draft["id"])
    decisions.approve(settings, actor(settings, "bob"), draft["id"], submitted["content_hash"])
    publishing.publish(settings, alice, draft["id"])  # the embedded worker posts it on X
    wait_until(lambda: len(x.created) == 1, 30, "the statement's post on X")
    post = x.mention("@acme is login down? I can't get in")
    variant2 = statements.preview(settings, draft["id"])["channels"]["reply"]["variant2"]
    from broadcaster.web.app import create_app

    base = serve_app(create_app(settings)).url
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))

    log_in(phone, base, "sam", lands="/dashboard/social")
    phone.click("text=Pull mentions now")
    phone.wait_for_selector("text=1 new post of 1 read")
    card = f"#post-{post}"
    assert "I can't get in" in phone.text_content(card) and phone.text_content(f"{card} .state") == "new"
    assert variant2 in phone.text_content("#variants")
    phone.select_option(f"#variant-{post}", "2")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    phone.locator(card).scroll_into_view_if_needed()
    phone.screenshot(path=str(shots / "social.png"))
    phone.click(f"{card} button.primary")
    phone.wait_for_selector(f"text=reply to {post} queued")

    def shown_sent() -> bool:
        phone.reload()
        return phone.query_selector("#sent-replies a:has-text('Our reply on X')") is not None

    wait_until(shown_sent, 30, "the reply to show as sent", poll=0.5)
    assert variant2 in phone.text_content("#sent-replies")
    phone.locator("#sent").scroll_into_view_if_needed()
    phone.screenshot(path=str(shots / "social-sent.png"))
    [reply] = x.replies_to(post)
    assert reply["text"] == variant2 and errors == []
    keep_screenshots(shots, "social.png", "social-sent.png")


def test_the_budget_line_says_the_window_has_reset_once_its_time_passes_on_the_open_page(embedded, browser, serve_app,
                                                                                          x, tmp_path):
    """The page is read once; left open, "resets at 04:19:45 UTC" read at 04:21 was false. The open page
    reveals that it has reset, by its own clock, and asks for a refresh. On a phone its words are 16 px."""
    settings = embedded
    add_user(settings, "sam", ["social"])
    auth.set_password(settings, "sam", PASSWORD)
    soon = time.time() + 4
    _xbudget._store(settings).update(_xbudget._key(settings.x_access_token), lambda state: (
        None, {"limit": 100.0, "remaining": 60.0, "reset": soon}))
    from broadcaster.web.app import create_app

    base = serve_app(create_app(settings)).url
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    log_in(phone, base, "sam", lands="/dashboard/social")
    passed = phone.locator("#window-reset-passed")
    if time.time() < soon - 1:  # (a busy machine may take longer than that to open the page)
        assert phone.locator("#window-resets").is_visible() and passed.is_hidden()
    passed.wait_for(state="visible", timeout=20000)
    assert phone.locator("#window-resets").is_hidden()
    assert "X's window has reset since this page was read" in passed.text_content()
    assert small_text(phone, "main *") == []
    shots = tmp_path / "screenshots"
    shots.mkdir()
    phone.locator("#budget").screenshot(path=str(shots / "social-budget-reset.png"))
    accessible(phone, "social page, window reset")
