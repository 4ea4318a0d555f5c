"""What customers see: banner.json, the status page, the feeds, the Statuspage v2 JSON and the
static export, over HTTP on a real database (each test on SQLite and PostgreSQL). The words
served must be the stored, approved renditions, byte for byte."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta

import feedparser
import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from broadcaster.delivery.chunk import send_now
from broadcaster.store.db import engine_for
from broadcaster.store.models import utcnow
from broadcaster.surfaces import ROUTES, SurfaceCache, export_static, render_documents, take_snapshot
from broadcaster.surfaces.statuspage import plain_text
from broadcaster.web.app import create_app
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.integration.statuspage_schema import SCHEMAS
from tests.integration.surfaces_data import open_incident, publish_update, rendition


@pytest.fixture
def live(database_url):
    """Settings whose surfaces read the database on every request (no cache age): tests see a
    publish at once. The cache's own tests use an age."""
    return make_settings(database_url, public_cache_seconds=0, status_page_url="https://status.example.com")


@pytest.fixture
def client(live):
    with TestClient(create_public_app(live)) as client:
        yield client


def banner(client) -> dict | None:
    response = client.get("/banner.json")
    assert response.status_code == 200
    return response.json()


# --- banner.json ------------------------------------------------------------------------------


def test_banner_is_null_until_something_is_published_then_the_stored_words(live, client):
    assert banner(client) is None
    incident = open_incident(live)
    statement = publish_update(live, incident, headline="Logins fail <sometimes> & slowly")
    shown = banner(client)
    stored = rendition(live, statement, "banner")
    assert shown["text"] == stored["text"]  # byte for byte, nothing re-rendered or escaped
    assert "<sometimes> & slowly" in shown["text"]
    assert (shown["incident_id"], shown["version"], shown["statement_id"]) == (incident, 1, statement)
    assert (shown["impact"], shown["severity"], shown["status"]) == ("major", stored["severity"], "investigating")
    assert shown["url"] == f"https://status.example.com/status#incident-{incident}"


def test_banner_follows_new_versions_then_says_it_is_resolved_for_a_while_then_clears(live, client):
    incident = open_incident(live)
    publish_update(live, incident)
    second = publish_update(live, incident, status="identified", headline="The login fault is found")
    assert banner(client)["text"] == rendition(live, second, "banner")["text"]
    assert banner(client)["version"] == 2
    assert banner(client)["show_until"] is None  # still going on: no end
    resolved = publish_update(live, incident, status="resolved", headline="Logins work again")
    shown = banner(client)  # a visitor who saw the outage sees that it is over
    assert shown["text"] == rendition(live, resolved, "banner")["text"]
    assert shown["text"].startswith("Resolved: Logins work again. Affected: Login,")
    assert (shown["status"], shown["severity"]) == ("resolved", "none")
    up, until = (datetime.fromisoformat(shown[key]) for key in ("updated_at", "show_until"))
    assert until - up == timedelta(minutes=30)  # BROADCASTER_BANNER_RESOLVED_MINUTES
    later = render_documents(live, take_snapshot(live), now=until + timedelta(seconds=1))
    assert json.loads(later["banner.json"].body) is None


def test_banner_shows_the_most_severe_unresolved_incident(live, client):
    minor = open_incident(live, "Slow search", "minor", ("Search",))
    publish_update(live, minor, headline="Search is slow")
    major = open_incident(live, "Payments down", "major", ("Payments",))
    publish_update(live, major, headline="Payments fail")
    minor_later = publish_update(live, minor, status="identified", headline="Search is still slow")
    assert banner(client)["incident_id"] == major  # not the one updated last
    publish_update(live, major, status="resolved", headline="Payments work again")
    assert banner(client)["incident_id"] == minor
    assert banner(client)["text"] == rendition(live, minor_later, "banner")["text"]


def test_a_surface_switches_only_when_its_delivery_is_sent(live, client):
    incident = open_incident(live)
    queued: list[int] = []
    publish_update(live, incident, dispatch=lambda settings, ids: queued.extend(ids))  # a worker has not run yet
    assert banner(client) is None
    assert client.get("/api/v2/incidents.json").json()["incidents"] == []
    send_now(live, queued)
    assert banner(client)["incident_id"] == incident


# --- Statuspage v2 ------------------------------------------------------------------------------


def test_every_statuspage_document_matches_its_schema(live, client):
    ongoing = open_incident(live, "Login failures", "major", ("Login", "API"))
    publish_update(live, ongoing)
    publish_update(live, ongoing, status="monitoring", headline="A fix is out; we are watching")
    over = open_incident(live, "Slow search", "minor", ("Search",))
    publish_update(live, over, headline="Search is slow")
    publish_update(live, over, status="resolved", headline="Search is fast again")
    for name, schema in SCHEMAS.items():
        response = client.get(f"/api/v2/{name}")
        assert response.status_code == 200, name
        jsonschema.validate(response.json(), schema)
    summary = client.get("/api/v2/summary.json").json()
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert {c["name"]: c["status"] for c in summary["components"]} == {
        "API": "partial_outage", "Login": "partial_outage", "Search": "operational"}
    assert [i["id"] for i in summary["incidents"]] == [str(ongoing)]
    assert [i["id"] for i in client.get("/api/v2/incidents.json").json()["incidents"]] == [str(over), str(ongoing)]


def test_incident_updates_carry_the_stored_status_page_words_as_plain_text_newest_first(live, client):
    incident = open_incident(live, "Login failures", "critical", ("Login",))
    first = publish_update(live, incident, body="Logins fail <b>for everyone</b>.")
    second = publish_update(live, incident, status="monitoring", headline="Fixed; watching")
    third = publish_update(live, incident, status="resolved", headline="All good")
    (shown,) = client.get("/api/v2/incidents.json").json()["incidents"]
    assert [u["id"] for u in shown["incident_updates"]] == [str(third), str(second), str(first)]
    assert [u["status"] for u in shown["incident_updates"]] == ["resolved", "monitoring", "investigating"]
    # Statuspage's body is text: the approved fragment's words without its markup, as typed
    assert [u["body"] for u in shown["incident_updates"]] == [
        plain_text(rendition(live, sid, "status_page")["body"]) for sid in (third, second, first)]
    assert "Logins fail <b>for everyone</b>." in shown["incident_updates"][2]["body"].splitlines()
    assert not any("<article" in u["body"] or "&lt;" in u["body"] for u in shown["incident_updates"])
    assert shown["status"] == "resolved" and shown["resolved_at"] == shown["updated_at"]
    assert shown["monitoring_at"] == shown["incident_updates"][1]["created_at"]
    assert client.get("/api/v2/incidents/unresolved.json").json()["incidents"] == []
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"


def test_component_status_follows_the_worst_live_incident_touching_it(live, client):
    for title, impact, component in (("A", "minor", "Search"), ("B", "critical", "Search"), ("C", "minor", "Mail")):
        publish_update(live, open_incident(live, title, impact, (component,)), headline=f"{title} broke")
    components = {c["name"]: c["status"] for c in client.get("/api/v2/components.json").json()["components"]}
    assert components == {"Search": "major_outage", "Mail": "degraded_performance"}


def test_public_documents_allow_any_origin_and_short_caching(live, client):
    publish_update(live, open_incident(live))
    for path in ROUTES:
        response = client.get(path, headers={"Origin": "https://widget.example.net"})
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*", path
        assert response.headers["cache-control"] == (
            "public, max-age=0, stale-while-revalidate=30, stale-if-error=86400"), path


# --- feeds and the status page ---------------------------------------------------------------


def test_feedparser_reads_every_published_update_newest_first(live, client):
    one = open_incident(live, "Login failures")
    two = open_incident(live, "Slow search", "minor", ("Search",))
    headlines = ["Logins fail", "Search is slow", "Login fault found", "Logins work again"]
    publish_update(live, one, headline=headlines[0])
    publish_update(live, two, headline=headlines[1])
    publish_update(live, one, status="identified", headline=headlines[2])
    publish_update(live, one, status="resolved", headline=headlines[3])
    atom = feedparser.parse(client.get("/feed.atom").content)
    assert not atom.bozo, atom.get("bozo_exception")
    assert atom.version == "atom10"
    assert [entry.title for entry in atom.entries] == headlines[::-1]
    assert atom.entries[0].link == f"https://status.example.com/status#incident-{one}"
    rss = feedparser.parse(client.get("/feed.rss").content)
    assert rss.version.startswith("rss") and [entry.title for entry in rss.entries] == headlines[::-1]


def test_status_page_shows_state_components_timeline_and_history(live, client):
    ongoing = open_incident(live, "Login failures", "major", ("Login",))
    first = publish_update(live, ongoing, body="<script>alert(1)</script> logins fail")
    second = publish_update(live, ongoing, status="identified", headline="Found it")
    over = open_incident(live, "Slow search", "minor", ("Search",))
    publish_update(live, over, headline="Search is slow")
    publish_update(live, over, status="resolved", headline="Search is fast again")
    response = client.get("/status")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Partial System Outage" in page
    for sid in (first, second):
        assert rendition(live, sid, "status_page")["body"] in page  # the stored fragment, verbatim
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    current, past = page.split("Past incidents")
    assert f'id="incident-{ongoing}"' in current and f'id="incident-{over}"' in past
    assert current.index("Found it") < current.index("logins fail")  # newest update first
    assert 'href="/feed.atom"' in page and "Subscribe" in page
    assert '<meta name="viewport"' in page and "<script" not in page.replace("&lt;script", "")


def test_status_page_outline_groups_and_each_updates_own_next_update(live, client):
    from broadcaster.incidents.components import add_component
    from tests.conftest import actor

    incident = open_incident(live, "Login failures", "major", ("Login", "API"))
    for name, group in (("Login", "Accounts"), ("Signup", "Accounts"), ("API", None)):
        add_component(live, actor(live, "root"), name, group=group)
    publish_update(live, incident, next_update="30m")
    publish_update(live, incident, status="identified", headline="Found it", next_update="2h")
    page = client.get("/status").text
    current = page.split("<h2>Components</h2>")[0]
    # One outline: h1 the page, h2 the sections, h3 each incident; the updates carry no headings.
    assert re.findall(r"<h(\d)", current) == ["1", "2", "3"]
    assert current.count("<strong>Investigating</strong>") == 1 and current.count("<strong>Identified</strong>") == 1
    assert current.count("Found it") == 1  # said once, not again as a heading
    # Each update keeps the promise it made when it went out, not the newest one's.
    promises = re.findall(r'<p class="next-update">Next update by ([^<]+)\.</p>', current)
    assert len(promises) == 2 and promises[0] != promises[1]
    components = page.split("<h2>Components</h2>")[1].split("</ul>\n  </li>")[0]
    assert '<li class="group"><div><span>Accounts</span>' in components
    group = components.split('<li class="group">')[1]
    assert group.index("Login") < group.index("Signup") and "<ul>" in group  # its members, under it


# --- the snapshot cache ------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def count_queries(url: str) -> list[str]:
    seen: list[str] = []
    event.listen(engine_for(url), "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_cache_serves_without_the_database_until_it_is_due_then_asks_one_cheap_question(database_url):
    settings = make_settings(database_url, public_cache_seconds=5)
    incident = open_incident(settings)
    publish_update(settings, incident)
    clock = Clock()
    cache = SurfaceCache(settings, clock=clock)
    first = cache.documents()
    queries = count_queries(database_url)
    clock.now += 4
    assert cache.documents() is first and queries == []  # young: not even a question
    clock.now += 2
    assert cache.documents() is first and len(queries) == 1  # due: one cheap marker query, nothing new
    publish_update(settings, incident, status="identified", headline="Found it")
    assert cache.documents() is first  # fresh again for 5 s: the switch is not seen yet
    queries.clear()
    clock.now += 6
    newer = cache.documents()
    assert newer is not first and b"Found it" in newer["banner.json"].body
    # the marker, then the snapshot: the marker again in its own transaction, the rows, the components,
    # the published postmortems
    assert len(queries) == 5


# --- static export ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_exported_files_served_by_a_plain_web_server_are_the_apps_bytes(live, tmp_path, monkeypatch):
    # One minute for the export and the app: the uptime bars move on with the clock.
    moment = utcnow()
    monkeypatch.setattr("broadcaster.surfaces.documents.utcnow", lambda: moment)
    incident = open_incident(live, "Login failures", "major", ("Login", "API"))
    publish_update(live, incident)
    publish_update(live, incident, status="identified", headline="Found it: a bad certificate")
    site = tmp_path / "site"
    export_static(live, site)
    assert not [p for p in site.rglob("*") if p.name.startswith(".")]  # no temporary files left behind
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(site)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        static = {}
        deadline = time.monotonic() + 60  # the server takes a moment to listen: seconds, on a busy machine
        for path, document in ROUTES.items():
            url = f"http://127.0.0.1:{port}/{document.removesuffix('index.html')}"
            while path not in static:
                try:
                    static[path] = fetch(url)
                except OSError:
                    assert time.monotonic() < deadline, f"http.server did not answer {url}"
                    time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)
    assert set(static) == set(ROUTES)
    public = create_public_app(live)
    # The app's documents at the export's moment too: its cache reads the wall clock itself, and a test that
    # crossed a minute (a second's chance in sixty; most of a minute's on a busy machine) moved its bars on.
    public.state.surface_cache.wall_clock = lambda: moment
    with TestClient(public) as app:  # only now is the app running
        for path in ROUTES:
            assert app.get(path).content == static[path], path
    assert json.loads(static["/banner.json"])["text"].startswith("Identified: Found it")


def test_export_rewrites_files_in_place_when_the_surfaces_change(live, tmp_path):
    incident = open_incident(live)
    publish_update(live, incident)
    export_static(live, tmp_path)
    assert json.loads((tmp_path / "banner.json").read_bytes())["version"] == 1
    publish_update(live, incident, status="resolved", headline="Fixed")
    written = export_static(live, tmp_path)
    resolved = json.loads((tmp_path / "banner.json").read_bytes())
    assert (resolved["status"], resolved["version"]) == ("resolved", 2) and resolved["show_until"]
    assert {p.relative_to(tmp_path).as_posix() for p in written} == set(ROUTES.values()) | {
        f"cap/incident-{incident}-v1.xml", f"cap/incident-{incident}-v2.xml"}  # each version's CAP alert
    assert oct((tmp_path / "banner.json").stat().st_mode & 0o777) == "0o644"


def test_export_command_writes_the_files(database_url, tmp_path, monkeypatch, capsys):
    from broadcaster.cli import main
    from broadcaster.config import get_settings

    settings = make_settings(database_url)
    publish_update(settings, open_incident(settings))
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["export", str(tmp_path / "out")])
    finally:
        get_settings.cache_clear()
    assert exit_.value.code in (0, None)
    assert f"wrote {len(ROUTES) + 1} files" in capsys.readouterr().out  # and the version's CAP alert
    assert json.loads((tmp_path / "out" / "banner.json").read_bytes())["version"] == 1
    assert (tmp_path / "out" / "status" / "index.html").read_bytes().startswith(b"<!doctype html>")


# --- which app serves what ---------------------------------------------------------------------


def test_public_app_serves_only_the_public_surfaces(live, client):
    for path in ("/metrics", "/healthz", "/webhooks/twilio/status", "/ivr/resolved", "/unsubscribe"):
        assert client.get(path).status_code in (404, 405), path
        assert client.post(path).status_code in (404, 405), path
    # the phone line and the SMS keywords are there (they outlive the database), signed by Twilio only
    for path in ("/ivr/voice", "/ivr/gather", "/webhooks/twilio/inbound"):
        assert client.post(path).status_code == 403, path
    assert client.get("/", follow_redirects=False).headers["location"] == "/status"


def test_full_app_serves_the_public_surfaces_too(live):
    publish_update(live, open_incident(live))
    with TestClient(create_app(live)) as app:
        assert app.get("/banner.json").json()["version"] == 1
        assert app.get("/api/v2/summary.json").headers["access-control-allow-origin"] == "*"
