"""The home page after a year of incidents: the newest 50 in the table, how many there are, and a plain
link to older ones that works at a desktop's and a phone's size; axe-core finds no serious or critical
violation on either page. Screenshots (pytest's temporary folder): home-history*.png."""

from broadcaster.people import auth
from tests.conftest import add_user
from tests.e2e.conftest import PASSWORD, accessible, keep_screenshots, log_in
from tests.integration.history_data import add_history


def test_the_home_page_pages_through_a_long_history(embedded, browser, serve_app, tmp_path):
    from broadcaster.web.app import create_app

    settings = embedded
    add_user(settings, "alice", ["author"])
    auth.set_password(settings, "alice", PASSWORD)
    add_history(settings, 120)
    base = serve_app(create_app(settings)).url
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for name, size in (("home-history", {"width": 1280, "height": 900}),
                       ("home-history-phone", {"width": 390, "height": 844})):
        page = browser.new_context(viewport=size, is_mobile=size["width"] < 500).new_page()
        log_in(page, base, "alice")
        assert page.locator("#all-incidents + p").text_content() == "Incidents 1–50 of 120, newest first."
        assert page.locator("main table tbody tr").count() == 50
        accessible(page, f"the home page with 120 incidents, {size['width']} px")
        page.click("text=Older incidents")
        page.wait_for_url(f"{base}/dashboard?offset=50#all-incidents")
        assert page.locator("#all-incidents + p").text_content() == "Incidents 51–100 of 120, newest first."
        assert page.locator("main table tbody tr").first.text_content().startswith("70")
        page.locator(".pager").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"{name}.png"))
        accessible(page, f"the home page's older incidents, {size['width']} px")
    keep_screenshots(shots, "home-history.png", "home-history-phone.png")
