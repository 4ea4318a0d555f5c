"""The agent desk page (`/agent`) as a browser uses it: an agent's home, the live notes with their copy
buttons, `/agent/live` answering 204 until a version changes and then the cards with the new one
marked, each incident's versions."""

import re

import pytest
from fastapi.testclient import TestClient

from broadcaster.agents import desk
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import auth
from broadcaster.web.app import create_app
from tests.conftest import actor, add_user
from tests.integration.test_agent_desk import publish_version

PASSWORD = "correct horse battery"


@pytest.fixture
def agents(settings, world):
    add_user(settings, "ann", ["agent"])
    return world


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the page's behaviour does not depend on the database; the use cases above run on both


def test_the_desk_page_updates_itself_and_marks_a_new_version(settings, agents):
    auth.set_password(settings, "ann", PASSWORD)
    client = TestClient(create_app(settings))
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"name": "ann", "password": PASSWORD, "csrf_token": token, "next": "/dashboard"})
    home = client.get("/dashboard", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/agent"  # an agent's home is the desk
    assert "No open incident has agent notes right now" in client.get("/agent").text
    publish_version(settings, agents)
    page = client.get("/agent")
    signature = re.search(r'data-signature="([^"]*)"', page.text).group(1)
    assert signature == f"{agents}:1" and "Copy what to tell customers" in page.text
    assert "Yes: only signing in is affected." in page.text and "New version" not in page.text
    assert client.get(f"/agent/live?seen={signature}").status_code == 204  # nothing new: nothing sent
    publish_version(settings, agents, StatementInput(status="identified", headline="Some customers cannot log in",
                                                     body="We found the cause.", next_update="30m"))
    news = client.get(f"/agent/live?seen={signature}")
    assert news.status_code == 200 and news.headers["X-Desk-Signature"] == f"{agents}:2"
    assert "New version: v2 replaces v1, which you were reading." in news.text
    assert "We have found the cause" in news.text
    versions = client.get(f"/agent/incidents/{agents}").text
    assert "v2 (live now)" in versions and "v1" in versions
    # Nothing on the desk changes anything, and the rest of the dashboard is not the agent's to read.
    assert client.get("/dashboard/inbox").status_code == 403
    assert client.get("/agent/live?seen=" + "x" * 5000).status_code == 422  # bounded


def test_the_desk_page_says_what_changed_when_each_version_was_live_and_what_has_no_notes_yet(settings, agents):
    auth.set_password(settings, "ann", PASSWORD)
    client = TestClient(create_app(settings))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"name": "ann", "password": PASSWORD, "csrf_token": token, "next": "/dashboard"})
    assert "Open, with no approved notes yet" in client.get("/agent").text  # the incident is open, nothing approved
    waiting = client.get(f"/agent/live?seen={agents}:0")
    assert waiting.status_code == 204  # the page already names it: nothing new
    publish_version(settings, agents)
    news = client.get(f"/agent/live?seen={agents}:0")
    assert "The first approved notes for this incident." in news.text and "no approved notes yet" not in news.text
    publish_version(settings, agents, StatementInput(status="identified", body="We found the cause.",
                                                              next_update="30m"))
    page = client.get("/agent").text
    changed = re.search(r'<p class="changes">([^<]*)</p>', page).group(1)
    # (and "The next update" when the two were published a minute apart: "30m" from each)
    # in the card's order: the words to say first
    assert changed.startswith("Changed since v1: What to tell customers, What happened") and "answers" not in changed
    versions = client.get(f"/agent/incidents/{agents}").text
    until, live_from = (v["published_at"][:16].replace("T", " ")
                        for v in desk.versions(settings, actor(settings, "ann"), agents)["versions"])
    assert f"Live from {live_from} to {until} UTC, then replaced by v2" in versions
    assert f"Live since {until} UTC" in versions and "changed in v2" in versions


def log_in_ann(settings) -> TestClient:
    auth.set_password(settings, "ann", PASSWORD)
    client = TestClient(create_app(settings))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"name": "ann", "password": PASSWORD, "csrf_token": token, "next": "/dashboard"})
    return client


def test_a_card_gives_the_words_to_say_before_what_happened_and_says_resolved_once(settings, agents):
    """An agent reads the card on a call: what to tell the caller comes first (on a phone the background
    pushed it below the first screen). A resolved version's badge said "resolved · over"."""
    client = log_in_ann(settings)
    publish_version(settings, agents)
    for page in (client.get("/agent").text, client.get(f"/agent/incidents/{agents}").text):
        assert 0 < page.index("What to tell customers</h3>") < page.index("What happened</h3>")
    publish_version(settings, agents, StatementInput(status="resolved", resolution="Logins work normally again.",
                                                     body="We rolled back the change."))
    badge = re.search(r'<span class="state">([^<]*)</span>', client.get("/agent").text).group(1)
    assert badge == "v2 · resolved"
