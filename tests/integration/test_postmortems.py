"""Postmortems, through the real use cases on SQLite and PostgreSQL: written after resolve, previewed,
approved like a statement (never by its author, sealed, for exactly the content seen), published on the
status page, the feeds and the Statuspage JSON, and emailed through the engine to the subscribers who
asked; Markdown with script, event handlers or `javascript:` links renders inert."""

import json
import re

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from broadcaster.audience import subscribers
from broadcaster.delivery.chunk import send_now
from broadcaster.delivery.sendlog import send_log
from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.postmortems import workflow
from broadcaster.store.db import transaction
from broadcaster.store.postmortem_models import Postmortem, PostmortemApproval
from broadcaster.web.public import create_public_app
from tests.conftest import actor, add_user, make_settings
from tests.integration.messages_sent import words_sent_to
from tests.integration.statuspage_schema import SCHEMAS
from tests.integration.surfaces_data import open_incident, publish_update

MARKDOWN = """# What happened

On **Tuesday** a certificate on the login service expired; about 1 in 5 logins failed for 42 minutes.

## What we are changing

- Certificates renew 30 days ahead, and an alert fires 14 days ahead.
- [Our certificate runbook](https://example.com/runbook)
"""
HOSTILE = """Hello <script>alert('x')</script> world.

<img src="x" onerror="alert(1)"> <a href="javascript:alert(2)" onclick="alert(3)">raw link</a>

[markdown link](javascript:alert(4)) and [fine](https://example.com/ok) and <b onmouseover="x()">bold</b>
"""


@pytest.fixture
def live(database_url):
    return make_settings(database_url, public_cache_seconds=0, locales=["es"],
                         status_page_url="https://status.example.com")


def resolved_incident(settings) -> int:
    incident = open_incident(settings, "Login failures", "major", ("Login",))
    publish_update(settings, incident)
    return incident


def test_a_postmortem_is_written_after_resolve_approved_by_another_and_published_everywhere(live):
    incident = resolved_incident(live)
    with pytest.raises(NotAllowed, match="not resolved"):
        workflow.write(live, actor(live, "alice"), incident, MARKDOWN)
    publish_update(live, incident, status="resolved", headline="Logins work again")
    for address, locale in (("ana@example.com", "es"), ("ben@example.com", None), ("cy@example.com", None)):
        subscribers.add_subscriber(live, actor(live, "root"), email=address, locale=locale)
    workflow.opt_in(live, actor(live, "root"), "ana@example.com")
    workflow.opt_in(live, actor(live, "root"), "ben@example.com")  # cy@ did not ask

    add_user(live, "dana", ["author", "approver"])
    written = workflow.write(live, actor(live, "dana"), incident, MARKDOWN)
    assert written["state"] == "draft" and written["html"].startswith("<h5>What happened</h5>")
    assert written["content_hash"] == workflow.preview(MARKDOWN)["content_hash"]
    with pytest.raises(NotAllowed, match="wrote or edited"):
        workflow.approve(live, actor(live, "dana"), written["id"])  # never its author, even an approver
    with pytest.raises(NotAllowed):
        workflow.approve(live, actor(live, "bob"), written["id"], seen_hash="0" * 64)  # not what is stored
    with pytest.raises(NotAllowed, match="not approved"):
        workflow.publish(live, actor(live, "alice"), written["id"])
    approved = workflow.approve(live, actor(live, "bob"), written["id"], seen_hash=written["content_hash"][:12])
    assert (approved["state"], approved["approvals"], approved["approved_by"]) == ("approved", 1, ["bob"])

    published = workflow.publish(live, actor(live, "alice"), written["id"], dispatch=send_now)
    assert published["state"] == "published" and published["emailed"] == 2
    with pytest.raises(NotAllowed, match="never changed"):
        workflow.write(live, actor(live, "alice"), incident, "Something else")

    # Emailed through the engine, in the send log, to those who asked, each in their language.
    sent = [e for e in send_log(live, kind="postmortem") if e["status"] == "simulated"]
    assert sorted((e["target"], e["locale"]) for e in sent) == [("ana@example.com", "es"), ("ben@example.com", "en")]
    assert "Postmortem: Login failures" in words_sent_to(live, "ben@example.com")
    assert "Análisis posterior: Login failures" in words_sent_to(live, "ana@example.com")
    assert "certificate on the login service expired" in words_sent_to(live, "ben@example.com")
    assert words_sent_to(live, "cy@example.com") == ""

    with TestClient(create_public_app(live)) as client:
        page = client.get("/status").text
        assert f'id="postmortem-{incident}"' in page and "<strong>Tuesday</strong>" in page
        assert '<a href="https://example.com/runbook" rel="nofollow noopener noreferrer">' in page
        assert "Análisis posterior" in client.get("/status?lang=es").text
        feed = feedparser.parse(client.get("/feed.atom").content)
        assert feed.entries[0].title == "Postmortem: Login failures"
        assert "certificate on the login service expired" in feed.entries[0].content[0].value
        incidents = client.get("/api/v2/incidents.json").json()
    import jsonschema

    jsonschema.validate(incidents, SCHEMAS["incidents.json"])
    shown = incidents["incidents"][0]
    assert shown["status"] == "postmortem" and shown["postmortem_body"] == MARKDOWN.strip()
    assert shown["incident_updates"][0]["status"] == "postmortem"
    assert "certificate on the login service expired" in shown["incident_updates"][0]["body"]
    assert shown["resolved_at"] is not None


def test_editing_voids_approvals_and_a_tampered_row_is_refused(live):
    incident = resolved_incident(live)
    publish_update(live, incident, status="resolved", headline="Logins work again")
    first = workflow.write(live, actor(live, "alice"), incident, MARKDOWN)
    workflow.approve(live, actor(live, "bob"), first["id"])
    edited = workflow.write(live, actor(live, "alice"), incident, MARKDOWN + "\nOne more thing.\n")
    assert (edited["state"], edited["approvals"]) == ("draft", 0)  # the approval was of other content
    with pytest.raises(NotAllowed, match="not approved"):
        workflow.publish(live, actor(live, "alice"), edited["id"])
    workflow.approve(live, actor(live, "bob"), edited["id"])
    # Someone rewrites the words behind the app's back, hash recomputed and all: refused at publish.
    forged = workflow.preview("All fine, nothing to see.")
    with transaction(live.database_url) as s:
        s.execute(update(Postmortem).where(Postmortem.id == edited["id"]).values(
            markdown=forged["markdown"], html=forged["html"], content_hash=forged["content_hash"]))
        s.execute(update(PostmortemApproval).where(PostmortemApproval.content_hash == edited["content_hash"])
                  .values(content_hash=forged["content_hash"]))
    with pytest.raises(NotAllowed, match="no valid seal"):
        workflow.publish(live, actor(live, "alice"), edited["id"])
    with transaction(live.database_url) as s:
        assert s.get(Postmortem, edited["id"]).published_at is None


def test_markdown_with_script_handlers_and_javascript_links_renders_inert(live):
    incident = resolved_incident(live)
    publish_update(live, incident, status="resolved", headline="Logins work again")
    html = workflow.write(live, actor(live, "alice"), incident, HOSTILE)["html"]
    lowered = html.lower()
    for bad in ("<script", "alert('x')", "onerror", "onclick", "onmouseover", "<img", "style="):
        assert bad not in lowered, bad
    # Every link left goes to the web; a `javascript:` one is no link at all (its words stay, as text).
    assert re.findall(r'href="([^"]*)"', html) == ["https://example.com/ok"]
    assert "<a>raw link</a>" in html or "<a rel=\"nofollow noopener noreferrer\">raw link</a>" in html
    assert '<a href="https://example.com/ok" rel="nofollow noopener noreferrer">fine</a>' in html
    assert "<b>bold</b>" not in html and "bold" in html  # <b> is not kept, its words are
    assert "raw link" in html and "Hello" in html and "world." in html


def test_bad_input_is_refused_with_a_clear_error(live):
    incident = resolved_incident(live)
    publish_update(live, incident, status="resolved", headline="Logins work again")
    with pytest.raises(InvalidInput, match="write something"):
        workflow.write(live, actor(live, "alice"), incident, "   ")
    with pytest.raises(InvalidInput, match="at most 50000 characters"):
        workflow.write(live, actor(live, "alice"), incident, "x" * 50_001)
    with pytest.raises(NotAllowed, match="cannot draft"):
        workflow.write(live, actor(live, "bob"), incident, MARKDOWN)  # an approver does not write it
    assert json.dumps(workflow.preview("*hi*")["html"]) == '"<p><em>hi</em></p>"'


def test_the_rest_api_writes_previews_approves_and_publishes(live):
    from tests.integration.api_fixtures import install

    api = install(live, dispatch=send_now)
    incident = resolved_incident(live)
    publish_update(live, incident, status="resolved", headline="Logins work again")
    url = f"/api/v1/incidents/{incident}/postmortem"
    assert api.client.get(url, headers=api.as_role("author")).status_code == 404
    too_long = api.client.put(url, json={"markdown": "x" * 50_001}, headers=api.as_role("author"))
    assert too_long.status_code == 422 and too_long.headers["content-type"] == "application/problem+json"
    preview = api.client.post("/api/v1/postmortems/preview", json={"markdown": HOSTILE},
                              headers=api.as_role("approver")).json()
    assert "<script" not in preview["html"] and "onerror" not in preview["html"]
    written = api.client.put(url, json={"markdown": MARKDOWN}, headers=api.as_role("author")).json()
    assert written["state"] == "draft"
    stale = api.client.post(f"/api/v1/postmortems/{written['id']}/approve", json={"content_hash": "0" * 64},
                            headers=api.as_role("approver"))
    assert stale.status_code == 403 and "preview it again" in stale.json()["detail"]
    approved = api.client.post(f"/api/v1/postmortems/{written['id']}/approve",
                               json={"content_hash": written["content_hash"]}, headers=api.as_role("approver"))
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    published = api.client.post(f"/api/v1/postmortems/{written['id']}/publish", headers=api.as_role("author"))
    assert published.status_code == 202 and published.json()["state"] == "published"
    assert api.client.get(url, headers=api.as_role("approver")).json()["published_at"]
    with TestClient(create_public_app(live)) as client:
        assert f'id="postmortem-{incident}"' in client.get("/status").text


def test_a_postmortem_email_carries_its_one_click_unsubscribe_link_and_it_works(database_url):
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from broadcaster.audience.unsubscribe import token_of_delivery, unsubscribe
    from broadcaster.delivery.batches import batches, group
    from broadcaster.store.models import Delivery, Subscriber

    settings = make_settings(database_url, public_url="https://broadcaster.example.com")
    incident = resolved_incident(settings)
    publish_update(settings, incident, status="resolved", headline="Logins work again")
    subscribers.add_subscriber(settings, actor(settings, "root"), email="ben@example.com")
    workflow.opt_in(settings, actor(settings, "root"), "ben@example.com")
    written = workflow.write(settings, actor(settings, "alice"), incident, MARKDOWN)
    workflow.approve(settings, actor(settings, "bob"), written["id"])
    workflow.publish(settings, actor(settings, "alice"), written["id"], dispatch=lambda settings, ids: None)
    with transaction(settings.database_url) as s:
        (delivery,) = s.scalars(select(Delivery).where(Delivery.message_id.is_not(None))
                                .options(selectinload(Delivery.message))).all()
        ((_, targets, words, _),) = list(batches(settings, group([delivery]), []))
        delivery_id = delivery.id
    assert targets[0].unsubscribe_url.startswith(f"https://broadcaster.example.com/unsubscribe?d={delivery_id}&t=")
    assert "Postmortem: Login failures" == words["subject"]
    unsubscribe(settings, delivery_id, token_of_delivery(settings, delivery_id))
    with transaction(settings.database_url) as s:
        assert s.scalar(select(Subscriber.opted_out_at).where(Subscriber.email == "ben@example.com")) is not None
