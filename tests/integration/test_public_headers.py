"""What the public documents and the unsubscribe pages tell a browser besides their bytes: every
public document is taken as the type it is served as (nosniff) and sends no Referer, from the public
server (answered before routing) and the full app (its routes) alike; the status page may be framed
(it has nothing to click that acts). An unsubscribe link's page, whose URL carries its token, is
never cached or framed and sends no Referer (its /status link would carry the token away)."""

import re

import pytest
from fastapi.testclient import TestClient

from broadcaster.audience import unsubscribe
from broadcaster.surfaces import ROUTES
from broadcaster.web.app import create_app
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.integration.rows import make_delivery, make_statement, make_subscriber
from tests.integration.surfaces_data import open_incident, publish_update

PUBLIC = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
PRIVATE = {"cache-control": "no-store", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff",
           "content-security-policy": "frame-ancestors 'none'", "x-frame-options": "DENY"}


@pytest.fixture
def live(database_url):
    return make_settings(database_url, public_cache_seconds=0, status_page_url="https://status.example.com")


def said(response, expected: dict[str, str]) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in expected}


@pytest.mark.parametrize("make_app", [create_public_app, create_app], ids=["public server", "full app"])
def test_every_public_document_says_nosniff_and_no_referrer(live, make_app):
    publish_update(live, open_incident(live))
    with TestClient(make_app(live)) as client:
        cap = re.search(r"/cap/incident-\d+-v\d+\.xml", client.get("/cap.atom").text).group(0)
        for path in [*ROUTES, cap]:
            for response in (client.get(path), client.head(path)):
                assert response.status_code == 200, path
                assert said(response, PUBLIC) == PUBLIC, path
                assert response.headers["access-control-allow-origin"] == "*", path  # still read cross-origin
        etag = client.get("/banner.json").headers["etag"]
        revalidated = client.get("/banner.json", headers={"If-None-Match": etag})
        assert revalidated.status_code == 304 and said(revalidated, PUBLIC) == PUBLIC
        # The status page may be framed (a help centre's): nothing on it acts.
        assert "x-frame-options" not in client.get("/status").headers


@pytest.fixture
def link(settings) -> str:
    make_subscriber(settings, email="c1@example.com")
    d = make_delivery(settings, make_statement(settings), channel="email", target="c1@example.com",
                      provider="sendgrid")
    return f"/unsubscribe?d={d}&t={unsubscribe.token_of_delivery(settings, d)}"


def test_unsubscribe_pages_are_private_asked_done_or_refused(settings, link):
    with TestClient(create_app(settings)) as client:
        asked = client.get(link)
        refused = client.get(link[:-4] + "0000")
        done = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert (asked.status_code, refused.status_code, done.status_code) == (200, 403, 200)
    assert 'href="/status"' in asked.text  # the link whose Referer would carry the token
    for page in (asked, refused, done):
        assert said(page, PRIVATE) == PRIVATE
