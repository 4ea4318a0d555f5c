"""Fresh on change: a switch of a live surface is announced on Redis and the public server serves the
new words at once; with the notifier down it polls and still converges within its interval, and
it listens again once the notifier is back. And HTTP that caches correctly: an ETag on every
public document, If-None-Match → 304, Cache-Control that lets a CDN ride out an origin failure."""

import json

import pytest
from fastapi.testclient import TestClient

from broadcaster.surfaces import ROUTES, freshness, register_switch_hooks
from broadcaster.web.public import create_public_app
from broadcaster.web.public.status import not_modified
from tests.conftest import make_settings
from tests.integration.private_services import PrivateRedis, free_port, until
from tests.integration.surfaces_data import open_incident, publish_update

POLL = 1.0
# Long enough for a busy machine, never long enough for a timer that should not be there: a listener
# that hears nothing asks again only after SAFETY_NET_SECONDS, set to an hour here, so a switch served
# while it listens was announced, and one served with no notifier was polled for.
SOON = 20.0


@pytest.fixture(autouse=True)
def _switches_announced(monkeypatch):
    register_switch_hooks()  # what the worker app does: this test process sends
    monkeypatch.setattr(freshness, "SAFETY_NET_SECONDS", 3600.0)


@pytest.fixture
def notifier():
    redis = PrivateRedis().start()
    yield redis
    redis.stop()


def headline_shown(client) -> str:
    banner = client.get("/banner.json").json()
    return banner["text"] if banner else ""


def test_a_switch_is_served_at_once_and_a_server_whose_notifier_is_down_polls(database_url, notifier):
    # A poll far longer than the test: only the announcement explains a fast switch.
    settings = make_settings(database_url, public_notify_url=notifier.url, public_poll_seconds=POLL,
                             public_cache_seconds=5)
    incident = open_incident(settings)
    publish_update(settings, incident, headline="Logins fail")
    with TestClient(create_public_app(settings)) as client:
        listener = client.app.state.listener
        until(listener.listening.is_set, SOON)
        assert "Logins fail" in headline_shown(client)
        turns = listener.turns
        publish_update(settings, incident, status="identified", headline="We found the cause")
        # publish returned after the switch and its announcement: the listener reads at once (milliseconds,
        # as bench/ measures; here, while it listens, nothing but the announcement makes it read)
        until(lambda: "We found the cause" in headline_shown(client), SOON, poll=0.02)
        assert listener.turns > turns  # read again because it was told, not because a timer ran out

        notifier.stop()  # the notifier goes away: the server notices and polls the database
        until(lambda: not listener.listening.is_set(), SOON)
        publish_update(settings, incident, status="monitoring", headline="A fix is in place")
        until(lambda: "A fix is in place" in headline_shown(client), SOON, poll=0.02)  # polled: no one told it

        notifier.start()  # back: it subscribes again and switches are announced again
        until(listener.listening.is_set, SOON)
        publish_update(settings, incident, status="resolved", headline="Logins work again")
        until(lambda: "Logins work again" in headline_shown(client), SOON, poll=0.02)


def test_with_no_notifier_at_all_the_server_polls(database_url):
    settings = make_settings(database_url, public_notify_url=f"redis://127.0.0.1:{free_port()}/0",
                             public_poll_seconds=0.3, public_cache_seconds=5)
    incident = open_incident(settings)
    with TestClient(create_public_app(settings)) as client:
        assert client.get("/banner.json").json() is None
        assert not client.app.state.listener.listening.is_set()
        publish_update(settings, incident, headline="Logins fail")
        until(lambda: "Logins fail" in headline_shown(client), SOON, poll=0.02)  # polled: there is no notifier


def test_every_public_document_has_an_etag_and_answers_a_conditional_request_with_304(database_url):
    settings = make_settings(database_url, locales=["es"], public_cache_seconds=0,
                             public_stale_while_revalidate_seconds=20,
                             public_stale_if_error_seconds=3600)
    incident = open_incident(settings)
    publish_update(settings, incident, headline="Logins fail")
    with TestClient(create_public_app(settings)) as client:
        tags = {}
        for path in [*ROUTES, "/status?lang=es"]:
            first = client.get(path)
            tag = tags[path] = first.headers["etag"]
            assert first.status_code == 200 and tag.startswith('"') and tag.endswith('"'), path
            assert first.headers["cache-control"] == (
                "public, max-age=0, stale-while-revalidate=20, stale-if-error=3600"), path
            again = client.get(path, headers={"If-None-Match": tag})
            assert again.status_code == 304 and again.content == b"", path
            assert again.headers["etag"] == tag and again.headers["cache-control"] == first.headers["cache-control"]
            assert client.get(path, headers={"If-None-Match": f'"other", W/{tag}'}).status_code == 304, path
            assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200, path
        assert tags["/status"] != tags["/status?lang=es"]  # each language its own bytes, its own tag
        publish_update(settings, incident, status="identified", headline="We found the cause")
        changed = client.get("/banner.json", headers={"If-None-Match": tags["/banner.json"]})
        assert changed.status_code == 200 and "We found the cause" in changed.json()["text"]
        assert changed.headers["etag"] != tags["/banner.json"]
        unchanged = client.get("/banner.js", headers={"If-None-Match": tags["/banner.js"]})
        assert unchanged.status_code == 304  # the script did not change


def test_if_none_match_parsing():
    assert not_modified('"a"', '"a"') and not_modified("*", '"a"') and not_modified('W/"a"', '"a"')
    assert not_modified('"b" , "a"', '"a"')
    assert not not_modified(None, '"a"') and not not_modified("", '"a"') and not not_modified('"ab"', '"a"')
    assert not not_modified('"b",' * 2000 + '"a"', '"a"')  # a header past its bound is not read to the end


def test_the_public_server_serves_the_same_bytes_as_the_export_of_the_same_moment(database_url, tmp_path):
    settings = make_settings(database_url, public_cache_seconds=5, static_dir=tmp_path / "site")
    incident = open_incident(settings)
    with TestClient(create_public_app(settings)) as client:
        publish_update(settings, incident, headline="Logins fail")
        until(lambda: "Logins fail" in headline_shown(client), SOON, poll=0.02)
        assert json.loads((tmp_path / "site" / "banner.json").read_bytes()) == client.get("/banner.json").json()
