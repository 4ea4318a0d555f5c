"""An approval link opened after it expired, by an approver with no dashboard password, at a phone's and a
laptop's size. With an email provider (SendGrid's SDK, to the fake provider) the page offers 'Email me a new
link' and the page after says to check their email; with none (the `log` provider, the embedded default:
nothing can be emailed) it offers no email and says whom to ask. axe finds nothing serious on any of them.
Screenshots: docs/screenshots/approve-expired-*.png, approve-renewed-*.png."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from broadcaster.store.access_models import ApprovalRequest
from broadcaster.store.db import transaction
from broadcaster.store.models import utcnow
from tests.e2e.conftest import accessible, in_first_screen, keep_screenshots
from tests.e2e.test_approval_browser import second_version_waiting
from tests.fakes.server import running_fake
from tests.integration.engine import as_env

SIZES = {"phone": {"width": 390, "height": 844}, "wide": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def sendgrid():
    with running_fake() as server:
        yield server


@pytest.fixture
def embedded_env(sendgrid) -> dict[str, str]:
    return as_env({"sendgrid_api_key": "SG.test", "sendgrid_host": sendgrid.url, "sendgrid_rate": "100000/second"})


def expired_link(settings, serve_app) -> str:
    """Bob's link to v2, expired: the URL of its page on a running app."""
    from broadcaster.web.app import create_app

    _, path = second_version_waiting(settings)
    with transaction(settings.database_url) as s:
        s.execute(update(ApprovalRequest).values(expires_at=utcnow() - timedelta(minutes=5)))
    return f"{serve_app(create_app(settings)).url}/approve/{path}"


def expired_page_at_each_size(settings, browser, serve_app):
    """Bob's expired link opened at each size: (size, the page), closed once the loop moves on."""
    url = expired_link(settings, serve_app)
    for size, viewport in SIZES.items():
        page = browser.new_context(viewport=viewport, is_mobile=size == "phone").new_page()
        page.goto(url)
        assert page.text_content("#done-title") == "This approval link has expired"
        yield size, page
        page.context.close()


def test_an_expired_link_offers_a_fresh_one_by_email_at_both_sizes(embedded, browser, serve_app, tmp_path):
    """Bob (no password) opens his link after it expired: the page offers 'Email me a new link' by keyboard
    and touch alike; the page after says to check his email. Both sizes; axe finds nothing serious."""
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for size, page in expired_page_at_each_size(embedded, browser, serve_app):
        assert in_first_screen(page, "#renew") and page.locator("main a").count() == 0
        page.screenshot(path=str(shots / f"approve-expired-{size}.png"))
        accessible(page, f"an expired approval link, {size}")
        page.click("#renew")
        page.wait_for_selector("text=Check your email")
        page.screenshot(path=str(shots / f"approve-renewed-{size}.png"))
        accessible(page, f"after asking for a new approval link, {size}")
    keep_screenshots(shots, *(f"approve-{what}-{size}.png" for what in ("expired", "renewed")
                              for size in ("phone", "wide")))


@pytest.mark.parametrize("embedded_env", [{}])  # no email provider: the `log` provider sends nothing
def test_with_no_email_provider_an_expired_link_offers_no_email_and_says_whom_to_ask(embedded, browser, serve_app,
                                                                                    tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for size, page in expired_page_at_each_size(embedded, browser, serve_app):
        assert page.locator("#renew").count() == 0 and page.locator("main a").count() == 0
        assert " ".join(page.text_content("#to-do").split()) == (
            "To approve it now, ask the person who runs Broadcaster for a new link: this Broadcaster has no email "
            "provider set up yet, so it cannot email you one.")
        assert in_first_screen(page, "#to-do")
        page.screenshot(path=str(shots / f"approve-expired-no-email-{size}.png"))
        accessible(page, f"an expired approval link with no email provider, {size}")
    keep_screenshots(shots, *(f"approve-expired-no-email-{size}.png" for size in SIZES))
