"""The webhook transport against a scripted local receiver: what it signs, and what each answer means."""

import json
import time

import pytest
from standardwebhooks import Webhook

from broadcaster.channels.base import SendContext, Target, TransportError
from broadcaster.channels.webhook import CHANNEL, SignedWebhook, check_payload, new_secret, normalise_url
from broadcaster.config import Settings
from broadcaster.domain.errors import InvalidInput
from tests.fakes.receivers import DripProxy, EndlessBody, FakeInternet

from .stub_http import StubServer, closed_port_url

SECRET = new_secret()["webhook_secret"]
FIELDS = {"body": json.dumps({"type": "incident.updated", "headline": "Login is down <b>", "version": 2})}
CONTEXT = SendContext(statement_id=7, incident_id=3, version=2, content_hash="ab" * 32)


def target(url: str, delivery_id: int = 41, secret: str | None = SECRET) -> Target:
    return Target(delivery_id, url + "/hook", details={"webhook_secret": secret})


def send(url: str, **kwargs):
    return SignedWebhook(Settings(_env_file=None)).notify(FIELDS, [target(url, **kwargs)], CONTEXT)


def test_the_receiver_verifies_the_signature_with_the_standard_webhooks_library():
    with StubServer() as receiver:
        (result,) = send(receiver.url)
    request = receiver.requests[0]
    verified = Webhook(SECRET).verify(request.body, {k.lower(): v for k, v in request.headers.items()})
    assert verified == {**json.loads(FIELDS["body"]), "content_hash": CONTEXT.content_hash}
    assert result.status == "sent" and result.provider_message_id == request.headers["webhook-id"]


def test_a_body_changed_on_the_way_fails_verification():
    with StubServer() as receiver:
        send(receiver.url)
    request = receiver.requests[0]
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(SECRET).verify(request.body.replace(b"Login", b"Logon"),
                               {k.lower(): v for k, v in request.headers.items()})


def test_every_attempt_of_one_delivery_carries_the_same_webhook_id():
    with StubServer() as receiver:
        send(receiver.url)
        send(receiver.url)
        send(receiver.url, delivery_id=42)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids[0] == ids[1] != ids[2]


def test_410_gone_fails_for_good_and_opts_the_subscriber_out():
    with StubServer() as receiver:
        receiver.reply(410)
        with pytest.raises(TransportError) as error:
            send(receiver.url)
    assert error.value.permanent and error.value.opted_out and error.value.code == "410"


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (404, True), (500, False), (503, False)])
def test_a_4xx_is_permanent_and_a_5xx_is_retried(status, permanent):
    with StubServer() as receiver:
        receiver.reply(status)
        with pytest.raises(TransportError) as error:
            send(receiver.url)
    assert error.value.permanent is permanent and not error.value.opted_out


def test_429_honours_retry_after():
    with StubServer() as receiver:
        receiver.reply(429, headers={"Retry-After": "7"})
        with pytest.raises(TransportError) as error:
            send(receiver.url)
    assert not error.value.permanent and error.value.retry_after == 7


def test_a_redirect_is_not_followed():
    with StubServer() as receiver:
        receiver.reply(302, headers={"Location": "http://127.0.0.1:1/elsewhere"})
        with pytest.raises(TransportError, match="302"):
            send(receiver.url)
    assert len(receiver.requests) == 1


def test_a_refused_connection_is_retried():
    with pytest.raises(TransportError) as error:
        send(closed_port_url())
    assert not error.value.permanent


def test_a_subscriber_without_a_secret_is_never_sent_unsigned():
    with StubServer() as receiver:
        with pytest.raises(TransportError, match="no signing secret"):
            send(receiver.url, secret=None)
    assert receiver.requests == []


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://example.com/hook", "https://10.0.0.5/hook",
                                 "https://169.254.169.254/latest", "not a url"])
def test_urls_that_would_leak_or_reach_inside_are_refused(url):
    with pytest.raises(InvalidInput, match="webhook_url"):
        normalise_url(url)


def test_https_and_local_receivers_are_accepted():
    assert normalise_url(" https://hooks.example.com/x ") == "https://hooks.example.com/x"
    assert normalise_url("http://127.0.0.1:9000/hook") == "http://127.0.0.1:9000/hook"


def test_a_template_that_renders_invalid_json_breaks_a_limit():
    checks = {c.name: c for c in check_payload({"body": "{not json"}, Settings(_env_file=None))}
    assert not checks["invalid JSON"].ok
    assert all(c.ok for c in check_payload(FIELDS, Settings(_env_file=None)))


def test_the_channel_is_a_recipient_channel_addressed_by_webhook_url():
    assert (CHANNEL.name, CHANNEL.kind.value, CHANNEL.address) == ("webhook", "recipient", "webhook_url")
    assert new_secret()["webhook_secret"].startswith("whsec_") and new_secret() != new_secret()


def test_a_receiver_that_drips_costs_one_deadline_and_waits_for_its_next_attempt_in_its_row():
    settings = Settings(_env_file=None, webhook_send_seconds=0.8)
    with StubServer() as receiver, DripProxy(receiver.port, interval=0.1) as drip:
        started = time.monotonic()
        with pytest.raises(TransportError) as error:
            SignedWebhook(settings).notify(FIELDS, [target(f"http://127.0.0.1:{drip.port}")], CONTEXT)
        took = time.monotonic() - started
    # The answer would take 11 s to drip; the bound leaves a busy machine room.
    assert 0.7 < took < 5 and error.value.code == "timeout" and not error.value.permanent
    # Past the quick-retry limit: the send thread moves on, the row says when to try again.
    assert error.value.retry_after > settings.quick_retry_max_wait_seconds and not error.value.ambiguous


def test_the_receivers_body_is_never_read():
    with EndlessBody() as receiver:
        (result,) = SignedWebhook(Settings(_env_file=None)).notify(
            FIELDS, [target(f"http://127.0.0.1:{receiver.port}")], CONTEXT)
        assert receiver.hung_up.wait(5)
    assert result.status == "sent" and receiver.sent < 20 * 1024 * 1024


def test_a_url_from_the_form_that_now_resolves_inside_is_refused_at_send_an_operators_is_not(monkeypatch):
    internet = FakeInternet(monkeypatch)
    with StubServer() as receiver:
        internet.host("hooks.example.test", "10.0.0.5", receiver.port)
        url = "http://hooks.example.test:443"  # plain http: the TLS path is in test_webhook_signup
        with pytest.raises(TransportError) as error:
            send_to = Target(41, url + "/hook", details={"webhook_secret": SECRET, "signed_up_at": "2026-01-01"})
            SignedWebhook(Settings(_env_file=None)).notify(FIELDS, [send_to], CONTEXT)
        assert error.value.permanent and error.value.code == "not-public" and internet.dialled == []
        (result,) = send(url)  # added by an operator: an inside name is theirs to choose
    assert result.status == "sent" and internet.dialled == [("10.0.0.5", 443)] and len(receiver.requests) == 1
