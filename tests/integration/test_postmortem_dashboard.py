"""The dashboard's postmortem page through HTTP as a browser uses it: an author previews (nothing
stored) and saves, bad input shows the form again with the message and the text kept, an approver
approves exactly the hash shown, the author publishes, and the status page shows it."""

import re

import pytest

from broadcaster.people import auth
from tests.integration.api_fixtures import install
from tests.integration.surfaces_data import open_incident, publish_update

PASSWORD = "correct horse battery"
MARKDOWN = "# What happened\n\nA certificate expired. <script>alert(1)</script>\n"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the pages' behaviour does not depend on the database; the flows run on both elsewhere


@pytest.fixture
def site(settings):
    installation = install(settings, dispatch=lambda settings, ids: None)
    for name in ("alice", "bob"):
        auth.set_password(settings, name, PASSWORD)
    return installation


def log_in(client, name: str) -> str:
    client.cookies.clear()
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token,
                                           "next": "/dashboard"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', client.get("/dashboard").text).group(1)


def test_write_preview_approve_and_publish_from_the_dashboard(settings, site):
    incident = open_incident(settings, "Login failures", "major", ("Login",))
    publish_update(settings, incident)
    client, url = site.client, f"/dashboard/incidents/{incident}/postmortem"
    csrf = log_in(client, "alice")
    early = client.post(url, data={"csrf_token": csrf, "markdown": MARKDOWN, "intent": "save"})
    assert early.status_code == 422 and "is not resolved" in early.text
    assert "A certificate expired." in early.text  # the text is kept
    publish_update(settings, incident, status="resolved", headline="Logins work again")
    assert f'href="{url}"' in client.get(f"/dashboard/incidents/{incident}").text

    preview = client.post(url, data={"csrf_token": csrf, "markdown": MARKDOWN, "intent": "preview"})
    assert preview.status_code == 200 and "Preview (not saved)" in preview.text
    assert "<h5>What happened</h5>" in preview.text and "<script>alert(1)" not in preview.text
    assert "&lt;script&gt;" in preview.text  # the textarea keeps what was typed, escaped
    assert "As saved" not in client.get(url).text  # a preview stores nothing
    empty = client.post(url, data={"csrf_token": csrf, "markdown": "  ", "intent": "save"})
    assert empty.status_code == 422 and "write something" in empty.text
    assert client.post(url, data={"csrf_token": "stale", "markdown": MARKDOWN, "intent": "save"}).status_code == 403
    saved = client.post(url, data={"csrf_token": csrf, "markdown": MARKDOWN, "intent": "save"}, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(url).text
    assert "As saved" in page and "draft" in page and "Approve exactly" not in page  # alice is no approver

    csrf = log_in(client, "bob")
    page = client.get(url).text
    content_hash = re.search(r'name="content_hash" value="([0-9a-f]{64})"', page).group(1)
    postmortem_id = re.search(r'/dashboard/postmortems/(\d+)/approve', page).group(1)
    approved = client.post(f"/dashboard/postmortems/{postmortem_id}/approve",
                           data={"csrf_token": csrf, "content_hash": content_hash, "incident_id": incident})
    assert approved.status_code == 200 and "1 of 1 approval (bob)" in approved.text

    csrf = log_in(client, "alice")
    published = client.post(f"/dashboard/postmortems/{postmortem_id}/publish",
                            data={"csrf_token": csrf, "incident_id": incident})
    assert "postmortem published" in published.text and "Published" in published.text
    assert "Write it" not in published.text and "Rewrite it" not in published.text  # never changed again
    assert f'id="postmortem-{incident}"' in client.get("/status").text
