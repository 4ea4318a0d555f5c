"""What a customer's browser does with the public surfaces: a real Chromium, a real uvicorn, and
test pages from another origin, as a company's own website would embed us."""

import os
import shutil
from pathlib import Path

import pytest

from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.integration.surfaces_data import open_incident, publish_update

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "status-phone.png"
NO_FAVICON = '<link rel="icon" href="data:,">'  # else the test site's 404 for /favicon.ico is a console error


@pytest.fixture
def live(database_url):
    return make_settings(database_url, public_cache_seconds=0, company_name="Example Co")


def embed_banner(site, app_url: str, refresh: int = 1) -> str:
    """A company's web page with the one pasted tag; returns its URL."""
    (site.root / "index.html").write_text(
        "<!doctype html><html><head><title>Shop</title>" + NO_FAVICON +
        f'<script src="{app_url}/banner.js" data-refresh="{refresh}" async></script></head>'
        "<body><h1 id='content'>Welcome to the shop</h1></body></html>")
    return f"{site.url}/index.html"


def wait_until(page, condition, seconds: float = 30) -> None:
    """Lets the page run until condition() holds. A fixed wait flakes on a busy machine, where a
    one-second setInterval can fire late; this waits only as long as it must."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    assert condition(), f"still not so after {seconds} s"


def banner_text(page) -> str | None:
    element = page.query_selector("#broadcaster-banner .broadcaster-banner-text")
    return element.text_content() if element else None


def test_a_page_on_another_origin_reads_summary_json(live, browser, page, serve_app, site):
    publish_update(live, open_incident(live, "Login failures", "critical", ("Login",)))
    app = serve_app(create_public_app(live))
    (site.root / "widget.html").write_text(
        "<!doctype html>" + NO_FAVICON + "<p id='out'>waiting</p><script>"
        f"fetch('{app.url}/api/v2/summary.json').then(r => r.json())"
        ".then(d => { document.getElementById('out').textContent = d.status.indicator + '|' + d.incidents[0].name; })"
        ".catch(e => { document.getElementById('out').textContent = 'blocked: ' + e; });</script>")
    page.goto(f"{site.url}/widget.html")
    page.wait_for_function("document.getElementById('out').textContent !== 'waiting'")
    assert page.text_content("#out") == "critical|Login failures"
    assert page.page_errors == [] and page.console_errors == []


def test_banner_appears_after_publish_says_it_is_resolved_then_goes(database_url, page, serve_app, site):
    # A resolution stays up for BROADCASTER_BANNER_RESOLVED_MINUTES (here 15 s), so a visitor who saw the
    # outage sees that it is over; then banner.js clears it.
    live = make_settings(database_url, public_cache_seconds=0, banner_resolved_minutes=0.25)
    incident = open_incident(live, "Login failures", "major", ("Login",))
    app = serve_app(create_public_app(live))
    page.goto(embed_banner(site, app.url))
    page.wait_for_timeout(1500)  # a check or two with nothing live
    assert page.query_selector("#broadcaster-banner") is None
    publish_update(live, incident, headline="Logins fail <img src=x onerror=alert(1)>")
    page.wait_for_selector("#broadcaster-banner", timeout=30000)
    shown = banner_text(page)
    assert shown.startswith("Investigating: Logins fail <img src=x onerror=alert(1)>.")  # text, not markup
    assert page.query_selector("#broadcaster-banner img") is None
    assert page.get_attribute("#broadcaster-banner", "role") == "status"
    colour = page.eval_on_selector("#broadcaster-banner", "e => getComputedStyle(e).backgroundColor")
    publish_update(live, incident, status="resolved", headline="Logins work again")
    page.wait_for_selector('#broadcaster-banner[data-version="2"]', timeout=30000)
    assert banner_text(page).startswith("Resolved: Logins work again. Affected: Login, ")
    resolved = page.eval_on_selector("#broadcaster-banner", "e => getComputedStyle(e).backgroundColor")
    page.wait_for_selector("#broadcaster-banner", state="detached", timeout=30000)
    assert page.text_content("#content") == "Welcome to the shop"
    assert colour == "rgb(255, 241, 229)"  # the major-impact colour
    assert resolved == "rgb(230, 244, 234)"  # green: it is over
    assert page.page_errors == [] and page.console_errors == []


def test_banner_js_asks_in_the_browsers_language(database_url, browser, serve_app, site):
    live = make_settings(database_url, public_cache_seconds=0, locales=["es"])
    incident = open_incident(live, "Login failures", "major", ("Login",))
    publish_update(live, incident, translations={"es": {
        "headline": "Algunos clientes no pueden iniciar sesión", "body": "Falla uno de cada cinco.",
        "workaround": "Use la aplicación móvil."}})
    app = serve_app(create_public_app(live))
    for locale, words, lang in (("es-ES", "Investigando: Algunos clientes no pueden iniciar sesión.", "es"),
                                ("fr-FR", "Investigating: Some customers cannot log in.", "en")):
        context = browser.new_context(locale=locale)
        try:
            page = context.new_page()
            page.goto(embed_banner(site, app.url))
            page.wait_for_selector("#broadcaster-banner", timeout=30000)
            assert banner_text(page).startswith(words)
            assert page.get_attribute("#broadcaster-banner", "lang") == lang
        finally:
            context.close()


def test_a_dismissed_banner_stays_dismissed_until_the_next_version(live, page, serve_app, site):
    incident = open_incident(live)
    publish_update(live, incident)
    app = serve_app(create_public_app(live))
    url = embed_banner(site, app.url)
    page.goto(url)
    page.click("#broadcaster-banner .broadcaster-banner-dismiss", timeout=30000)
    assert page.query_selector("#broadcaster-banner") is None
    page.reload()
    page.wait_for_timeout(1500)
    assert page.query_selector("#broadcaster-banner") is None  # remembered for this incident and version
    publish_update(live, incident, status="identified", headline="We found the fault")
    page.wait_for_selector("#broadcaster-banner", timeout=30000)
    assert banner_text(page).startswith("Identified: We found the fault.")


def test_the_page_loads_and_stays_quiet_when_the_status_app_is_down(live, page, serve_app, site):
    publish_update(live, open_incident(live))
    app = serve_app(create_public_app(live))
    page.goto(embed_banner(site, app.url))
    page.wait_for_selector("#broadcaster-banner", timeout=30000)
    app.stop()
    wait_until(page, lambda: len(page.console_errors) >= 2)  # two checks against a dead server
    assert page.query_selector("#broadcaster-banner") is not None  # what was shown stays
    assert page.page_errors == []
    assert page.console_errors and all("Failed to load resource" in e for e in page.console_errors)
    # A fresh visit while it is down: the page is whole, only the script's own load failed.
    page.console_errors.clear()
    page.goto(embed_banner(site, app.url), wait_until="load", timeout=30000)
    assert page.text_content("#content") == "Welcome to the shop"
    assert page.query_selector("#broadcaster-banner") is None
    assert page.page_errors == []
    assert all("Failed to load resource" in e for e in page.console_errors), page.console_errors


def test_status_page_reads_on_a_phone(live, browser, serve_app, tmp_path):
    ongoing = open_incident(live, "Login failures", "major", ("Login", "API"))
    publish_update(live, ongoing, headline="Some customers cannot log in",
                   body="Since 14:05 UTC about 1 in 5 login attempts fail. We are investigating.",
                   workaround="If you are logged in, stay logged in; the mobile app is not affected")
    publish_update(live, ongoing, status="identified", headline="We found the cause of the login failures",
                   body="A certificate on the login service expired. We are replacing it.")
    over = open_incident(live, "Slow search", "minor", ("Search",))
    publish_update(live, over, headline="Search is slow", body="Searches take up to 10 seconds.")
    publish_update(live, over, status="resolved", headline="Search is fast again", body="Search is back to normal.")
    app = serve_app(create_public_app(live))
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, java_script_enabled=False)  # it needs no JavaScript
    try:
        page = context.new_page()
        response = page.goto(f"{app.url}/status")
        assert response.status == 200
        assert page.text_content(".overall") == "Partial System Outage"
        assert page.is_visible(f"#incident-{ongoing}") and "We found the cause" in page.text_content("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        font_size = page.eval_on_selector("body", "e => parseFloat(getComputedStyle(e).fontSize)")
        assert font_size >= 16
        shot = tmp_path / "status-phone.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("UPDATE_SCREENSHOTS"):  # refresh the README's picture on purpose only
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, SCREENSHOT)
    finally:
        context.close()


def test_banner_js_polls_with_conditional_requests(live, page, serve_app, site):
    """Each check after the first asks If-None-Match (the browser's cache revalidating, so no CORS
    preflight) and gets a 304 with no body while nothing changed; a publish changes the tag and the banner."""
    incident = open_incident(live, "Login failures", "major", ("Login",))
    publish_update(live, incident, headline="Logins fail")
    public = create_public_app(live)
    checks = []

    async def recording(scope, receive, send):  # what reached the server, and what it answered
        async def sent(message):
            if message["type"] == "http.response.start" and scope["path"] == "/banner.json":
                asked = dict(scope["headers"]).get(b"if-none-match")
                checks.append((asked.decode() if asked else None, message["status"]))
            await send(message)
        await public(scope, receive, sent)

    app = serve_app(recording)
    page.goto(embed_banner(site, app.url, refresh=1))
    page.wait_for_function("document.querySelector('#broadcaster-banner') !== null")
    wait_until(page, lambda: len(checks) >= 3)
    assert checks[0] == (None, 200)
    assert len(checks) >= 3 and all(tag and status == 304 for tag, status in checks[1:]), checks
    publish_update(live, incident, status="identified", headline="We found the cause")
    page.wait_for_function("document.querySelector('#broadcaster-banner').textContent.includes('found the cause')")
    assert checks[-1][0] is not None and checks[-1][1] == 200  # asked with the old tag, got the new words
    assert page.page_errors == [] and page.console_errors == []
