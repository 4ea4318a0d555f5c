"""The status page's uptime bars in a real Chromium, on a desk and on a phone, from a seeded history
with known minutes (tests/integration/uptime_data.py); the pictures are the docs' (UPDATE_SCREENSHOTS=1)."""

import pytest

from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.e2e.conftest import keep_screenshots
from tests.integration.surfaces_data import open_incident, publish_update
from tests.integration.uptime_data import day, seed, seeded_history

VIEWPORTS = {"uptime-desktop.png": {"width": 1280, "height": 900}, "uptime-phone.png": {"width": 390, "height": 844}}


@pytest.fixture
def live(database_url):
    return make_settings(database_url, public_cache_seconds=0, company_name="Example Co", timezone="UTC")


def test_uptime_bars_on_a_desk_and_on_a_phone(live, browser, serve_app, tmp_path):
    seeded_history(live)
    slow = open_incident(live, "Slow API", "minor", ("API",))
    first = publish_update(live, slow, headline="The API is slow", body="Requests take up to 5 seconds.")
    last = publish_update(live, slow, status="resolved", headline="The API is fast again", body="Back to normal.")
    seed(live, first, day(40, 8))
    seed(live, last, day(40, 14))
    app = serve_app(create_public_app(live))
    for name, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 500,
                                      java_script_enabled=False)  # the bars need no JavaScript
        try:
            page = context.new_page()
            assert page.goto(f"{app.url}/status").status == 200
            page.evaluate("document.getElementById('uptime-heading').scrollIntoView()")
            assert page.locator("section.uptime ol.uptime-days").count() == 3
            bars = page.locator("section.uptime ol.uptime-days").first.locator("li")
            assert bars.count() == 90
            width = bars.first.evaluate("e => e.getBoundingClientRect().width")
            assert width >= 2  # each day is a visible bar, even on a phone
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll
            red = page.locator("section.uptime li.level-major_outage").first
            assert red.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(185, 28, 28)"
            assert "of major outage" in red.get_attribute("title")
            page.screenshot(path=str(tmp_path / name))  # the viewport, the bars at its top
        finally:
            context.close()
    keep_screenshots(tmp_path, *VIEWPORTS)
