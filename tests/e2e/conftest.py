"""Browser tests: the Debian Chromium at /usr/bin/chromium driven by Playwright, against the app
under uvicorn on a free loopback port and test pages served from another port (another origin).

Outside CI a missing Chromium skips these tests; in CI (`CI=true`) it fails them."""

import functools
import http.server
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from broadcaster.config import get_settings
from broadcaster.web.bounds import HTTP_PARSER
from tests.conftest import TEST_SECRET_KEY

CHROMIUM = Path("/usr/bin/chromium")
README_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"


class _KeptChromium:
    """One Chromium for a run of consecutive browser tests in a pytest process, not one per module: a
    launch is a second of CPU (Chromium, Playwright's node driver). While it lives, Playwright's sync
    API keeps its event loop marked running in this thread, and a later test here that runs asyncio (a
    TestClient in a CLI command) would fail; so it is closed before a test that does not use it runs
    (`pytest_runtest_teardown` below), and the browser tests can run among the others."""

    def __init__(self) -> None:
        self.playwright = None
        self.browser = None

    def open(self):
        if self.browser is not None and not self.browser.is_connected():
            self.close()  # it crashed in an earlier test: a new one for this test
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-background-networking"])
        return self.browser

    def close(self) -> None:
        if self.browser is not None:
            try:
                if self.browser.is_connected():
                    self.browser.close()
            finally:
                self.playwright.stop()
                self.browser = self.playwright = None


_chromium = _KeptChromium()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield  # the test's fixtures first: `browser` closes the test's contexts
    if nextitem is None or "browser" not in getattr(nextitem, "fixturenames", ()):
        _chromium.close()


def pytest_sessionfinish(session):
    _chromium.close()  # an interrupted run: no teardown saw the last browser test


@pytest.fixture
def browser():
    """The kept Chromium; the browser contexts a test opens are closed when it ends, so none of its
    pages (some poll every few seconds) lives on into the next test."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    browser = _chromium.open()
    yield browser
    for context in browser.contexts:
        context.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.page_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    yield page
    context.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """An ASGI app under a real uvicorn, in a thread, on a free loopback port; stoppable."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    http=HTTP_PARSER))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 60  # on a busy machine a thread may wait seconds for the GIL
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def serve_app():
    servers: list[LiveServer] = []

    def serve(app) -> LiveServer:
        servers.append(LiveServer(app).start())
        return servers[-1]

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def site(tmp_path):
    """A plain static web server on its own port (another origin than the app) for test pages."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.root, server.url = root, f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def embedded_env() -> dict[str, str]:
    """More environment for `embedded` (a test module overrides this fixture to set up a provider)."""
    return {}


@pytest.fixture
def embedded(tmp_path, monkeypatch, embedded_env, sqlite_template):
    """Settings as `broadcaster serve` has them by default, and its in-process worker. The database is
    a copy of the process's migrated template (what `broadcaster init` makes): a migration is a third of
    a second of CPU and two or three seconds of waiting on fsync on a busy machine."""
    path = tmp_path / "broadcaster.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", url)
    monkeypatch.setenv("BROADCASTER_COMPANY_NAME", "Acme")
    monkeypatch.setenv("BROADCASTER_SECRET_KEY", TEST_SECRET_KEY)  # what `broadcaster init` would have written
    for key, value in embedded_env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = get_settings()
    from broadcaster.cli.run import embedded_worker

    with embedded_worker(settings):
        yield settings
    get_settings.cache_clear()


def log_in(page, base: str, name: str, lands: str = "/dashboard") -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{lands}")


def keep_screenshots(shots: Path, *names: str) -> None:
    """Each screenshot is a real picture; UPDATE_SCREENSHOTS=1 also refreshes the README's copy of it."""
    for name in names:
        assert (shots / name).stat().st_size > 10_000
        if os.environ.get("UPDATE_SCREENSHOTS"):  # refresh the README's pictures on purpose only
            shutil.copy(shots / name, README_SHOTS / name)


SERIOUS = ("serious", "critical")


def accessible(page, where: str = "") -> None:
    """axe-core (WCAG 2.2 A and AA rules, and best practices) on the page as it is now: no serious or
    critical violation, else the test fails naming each rule and where it is."""
    from axe_playwright_python.base import AXE_SCRIPT

    options = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                     "best-practice"]}}
    page.evaluate(AXE_SCRIPT)  # as axe-playwright-python's Axe().run, which then brought back every result
    # type (passes, inapplicable: 100-200 kB of JSON through Chromium, Playwright's driver and here);
    # only the violations are read.
    found = page.evaluate("options => axe.run(options).then(results => results.violations)", options)
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
           for v in found if v["impact"] in SERIOUS]
    assert bad == [], f"{where or page.url}: " + "; ".join(bad)


def in_first_screen(page, selector: str) -> bool:
    """Whether the element is wholly inside the viewport as the page opens (no scrolling)."""
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def small_targets(page) -> list[str]:
    """Links, buttons, fields and disclosure summaries smaller than 24×24 px (WCAG 2.2 target size,
    minimum); a link inside a sentence is exempt, as WCAG exempts it."""
    return page.evaluate("""() => [...document.querySelectorAll('a, button, input:not([type=hidden]), select, summary')]
        .filter(e => { const r = e.getBoundingClientRect();
                       return r.width > 0 && r.right > 0 && (r.width < 24 || r.height < 24)
                              && getComputedStyle(e).display !== 'inline'; })
        .map(e => e.outerHTML.slice(0, 80))""")


def clipped(page) -> list[str]:
    """Elements whose content is wider than their box where the box hides it or scrolls it sideways (overflow
    hidden, clip, auto or scroll): words cut off, or behind a scroll region a phone's reader may not notice.
    The page may fit its window while a table inside it does not. Fields are left out (a long value in a text
    field scrolls in it by design), and so are boxes 1 px wide (.sr-only labels, clipped on purpose)."""
    return page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => !['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName) && e.clientWidth > 1
                     && /hidden|clip|auto|scroll/.test(getComputedStyle(e).overflowX)
                     && e.scrollWidth > e.clientWidth + 1)
        .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${e.scrollWidth} px of content in ${e.clientWidth} px, `
                  + JSON.stringify(e.innerText.slice(0, 60)))""")


def small_text(page, within: str = "main table *") -> list[str]:
    """Words under 16 px (what a phone wants) in the elements `within` selects (a table's, by default), with
    their size; hidden ones left out."""
    return page.evaluate("""within => [...document.querySelectorAll(within)]
        .filter(e => e.getBoundingClientRect().width > 1
                     && [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())
                     && parseFloat(getComputedStyle(e).fontSize) < 16)
        .map(e => `${getComputedStyle(e).fontSize} ${JSON.stringify(e.textContent.trim().slice(0, 40))}`)""", within)
