"""XPosts against a scripted stub of the X API v2, through the real tweepy client."""

import time

import pytest
import requests

from broadcaster.channels.base import SendContext, Target, TransportError
from broadcaster.channels.x import XPosts
from broadcaster.config import Settings

from .stub_http import Scripted, StubServer, closed_port_url

TEXT = "Some customers cannot log in. We are investigating; next update 14:30 UTC. https://status.example.com"
TARGET = Target(9, "x")
FIRST = SendContext(statement_id=7, incident_id=3, version=1)


@pytest.fixture
def stub(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    created = b'{"data": {"id": "1861234567890123456", "text": "..."}}'
    with StubServer(default=Scripted(201, created, {"Content-Type": "application/json"})) as server:
        yield server


def x(base: str) -> XPosts:
    return XPosts(Settings(_env_file=None, x_consumer_key="ck", x_consumer_secret="cs", x_access_token="at-123",
                           x_access_token_secret="ats", x_api_base=base + "/"))


def test_first_statement_of_an_incident_is_a_new_post(stub):
    [result] = x(stub.url).notify({"text": TEXT}, [TARGET], FIRST)

    assert (result.delivery_id, result.status, result.provider_message_id) == (9, "sent", "1861234567890123456")
    [request] = stub.requests
    assert (request.method, request.path) == ("POST", "/2/tweets")
    assert request.json() == {"text": TEXT}


def test_later_update_is_posted_as_a_reply(stub):
    x(stub.url).notify({"text": TEXT}, [TARGET], SendContext(8, 3, 2, reply_to="1861234567890123456"))

    assert stub.requests[0].json() == {"text": TEXT, "reply": {"in_reply_to_tweet_id": "1861234567890123456"}}


def test_posts_are_signed_as_the_account_user_with_oauth1(stub):
    transport = x(stub.url)
    transport.notify({"text": TEXT}, [TARGET], FIRST)

    authorization = stub.requests[0].headers["Authorization"]
    assert authorization.startswith("OAuth ")
    assert 'oauth_consumer_key="ck"' in authorization and 'oauth_token="at-123"' in authorization
    assert transport.account == "at-123"


def test_429_waits_until_the_rate_limit_window_resets(stub):
    stub.reply(429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
               {"x-rate-limit-reset": str(int(time.time()) + 120)})
    with pytest.raises(TransportError) as raised:
        x(stub.url).notify({"text": TEXT}, [TARGET], FIRST)

    assert not raised.value.permanent
    assert 115 <= raised.value.retry_after <= 121


def test_429_with_a_reset_already_past_still_waits_a_second(stub):
    stub.reply(429, {"detail": "Too Many Requests"}, {"x-rate-limit-reset": str(int(time.time()) - 5)})
    with pytest.raises(TransportError) as raised:
        x(stub.url).notify({"text": TEXT}, [TARGET], FIRST)

    assert raised.value.retry_after == 1.0


def test_duplicate_content_means_the_post_is_already_shown_not_failed(stub):
    stub.reply(403, {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403,
                     "title": "Forbidden"})
    stub.reply(200, {"data": {"id": "42", "name": "Example Co", "username": "exampleco"}})
    stub.reply(200, {"data": [{"id": "77", "text": "something else", "edit_history_tweet_ids": ["77"]},
                              {"id": "78", "text": TEXT, "edit_history_tweet_ids": ["78"]}],
                     "meta": {"result_count": 2}})

    [result] = x(stub.url).notify({"text": TEXT}, [TARGET], FIRST)

    assert (result.status, result.provider_message_id) == ("sent", "78")
    assert "duplicate" in result.detail
    assert [r.path for r in stub.requests] == ["/2/tweets", "/2/users/me", "/2/users/42/tweets"]


def test_reconciliation_finds_the_accounts_own_post_with_exactly_this_text(stub):
    stub.reply(200, {"data": {"id": "42", "name": "Example Co", "username": "exampleco"}})
    stub.reply(200, {"data": [{"id": "78", "text": TEXT + " (edited)", "edit_history_tweet_ids": ["78"]}],
                     "meta": {"result_count": 1}})
    stub.reply(200, {"data": [{"id": "79", "text": TEXT, "edit_history_tweet_ids": ["79"]}],
                     "meta": {"result_count": 1}})
    transport = x(stub.url)

    assert transport.find_sent({"text": TEXT}, TARGET, "2026-11-23T10:00:00+00:00") is None
    assert transport.find_sent({"text": TEXT}, TARGET, "2026-11-23T10:00:00+00:00") == "79"
    assert stub.requests[1].query["start_time"] == ["2026-11-23T10:00:00Z"]
    assert len(stub.requests) == 3  # the account's id is asked once


def test_bad_request_is_permanent(stub):
    stub.reply(400, {"detail": "nope", "status": 400})
    with pytest.raises(TransportError) as raised:
        x(stub.url).notify({"text": TEXT}, [TARGET], FIRST)

    assert (raised.value.permanent, raised.value.code) == (True, "400")


def test_rejected_credentials_pause_the_channel(stub):
    stub.reply(401, {"detail": "Unauthorized", "status": 401})
    with pytest.raises(TransportError) as raised:
        x(stub.url).notify({"text": TEXT}, [TARGET], FIRST)

    assert (raised.value.credentials, raised.value.permanent, raised.value.code) == (True, False, "401")


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_ambiguous_the_post_may_be_up(stub, status):
    stub.reply(status, {"detail": "Service Unavailable"})
    with pytest.raises(TransportError) as raised:
        x(stub.url).notify({"text": TEXT}, [TARGET], FIRST)

    assert (raised.value.permanent, raised.value.ambiguous, raised.value.code) == (False, True, str(status))


def test_refused_connection_is_retried():
    with pytest.raises(TransportError) as raised:
        x(closed_port_url()).notify({"text": TEXT}, [TARGET], FIRST)

    assert not raised.value.permanent and not raised.value.ambiguous


def test_without_an_api_base_requests_go_to_x_with_a_timeout(monkeypatch):
    sent = {}

    def fake_send(self, request, **kwargs):  # stop before the network; look at what would go out
        sent.update(url=request.url, timeout=kwargs.get("timeout"))
        raise requests.ConnectionError("offline")

    monkeypatch.setattr("requests.Session.send", fake_send)
    transport = XPosts(Settings(_env_file=None, x_consumer_key="ck", x_consumer_secret="cs", x_access_token="at",
                                x_access_token_secret="ats"))
    with pytest.raises(TransportError):
        transport.notify({"text": TEXT}, [TARGET], FIRST)

    assert sent == {"url": "https://api.twitter.com/2/tweets", "timeout": 10}
