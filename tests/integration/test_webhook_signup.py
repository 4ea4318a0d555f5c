"""Webhook sign-up on the public form: a double opt-in that proves the person typing the URL can
read what it receives (one signed verification event with a code, typed back), the signing secret
shown once, and a form that can be made neither an SSRF nor a way to hammer someone's server."""

import json
import re
import socket
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from standardwebhooks import Webhook

from broadcaster.channels import webhook
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent, Subscriber, SubscriptionRequest
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.integration.surfaces_data import open_incident, publish_update
from tests.unit.channels.stub_http import StubServer

SITE = "https://status.example.com"


def signup_settings(database_url, **overrides):
    # a limiter of this test's own: the in-memory one lives as long as the process
    return make_settings(database_url, status_page_url=SITE, signup_rate="2/hour", secret_key="s" * 40,
                         signup_rate_storage=f"memory://?{uuid.uuid4().hex}", **overrides)


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with StubServer() as server:
        yield server


@pytest.fixture
def local(database_url):
    """The form may reach this machine: the receiver under test listens on 127.0.0.1."""
    return signup_settings(database_url, webhook_signup_allow_private=True)


def client_for(settings) -> TestClient:
    return TestClient(create_public_app(settings))


def event_of(request) -> dict:
    return json.loads(request.body)


def webhook_subscribers(settings) -> list[tuple]:
    with transaction(settings.database_url) as s:
        return [tuple(r) for r in s.execute(select(Subscriber.webhook_url, Subscriber.webhook_secret,
                                                   Subscriber.opted_out_at.is_(None)))]


def refusals(settings) -> list[dict]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "refused: subscribe")))


def test_the_form_offers_a_webhook_url_beside_email_and_phone(local):
    with client_for(local) as client:
        page = client.get("/subscribe").text
    assert [name for name in ("email", "phone", "webhook_url") if f'name="{name}"' in page] == \
        ["email", "phone", "webhook_url"]


def test_a_webhook_is_subscribed_with_the_code_of_one_signed_event_and_its_secret_shown_once(local, receiver):
    url = f"{receiver.url}/hooks/status"
    with client_for(local) as client:
        sent = client.post("/subscribe", data={"webhook_url": url})
        assert sent.status_code == 200 and "Check your webhook endpoint" in sent.text
        assert sent.headers["cache-control"] == "no-store"
        [verification] = receiver.requests  # one request for one sign-up
        event = event_of(verification)
        assert event["type"] == "subscription.verification" and re.fullmatch(r"\d{6}", event["code"])
        assert webhook_subscribers(local) == []  # nothing is sent to the URL until the code comes back
        token = re.search(r'name="token" value="([\w-]+)"', sent.text).group(1)

        wrong = client.post("/subscribe/verify", data={"token": token, "code": "x" + event["code"][1:]})
        assert wrong.status_code == 400 and "not the code we sent" in wrong.text and "Check your webhook" in wrong.text
        done = client.post("/subscribe/verify", data={"token": token, "code": event["code"]})
        assert done.status_code == 200 and "You are subscribed" in done.text
        assert done.headers["cache-control"] == "no-store" and done.headers["referrer-policy"] == "no-referrer"
        secret = re.search(r"(whsec_[A-Za-z0-9+/=]+)", done.text).group(1)
        assert client.post("/subscribe/verify", data={"token": token, "code": event["code"]}).status_code == 403

    assert webhook_subscribers(local) == [(url, secret, True)]
    # The verification event was signed with the secret shown now, and so is every update.
    Webhook(secret).verify(verification.body, verification.headers)
    assert verification.headers["webhook-id"].startswith("msg_verify_")
    publish_update(local, open_incident(local), headline="Logins fail")
    update = receiver.requests[1]
    assert Webhook(secret).verify(update.body, update.headers)["headline"] == "Logins fail"
    assert len(receiver.requests) == 2


def test_an_endpoint_that_refuses_the_unsigned_looking_event_can_still_confirm_and_redirects_are_not_followed(
        local, receiver):
    with StubServer() as elsewhere:
        receiver.reply(401, "bad signature")
        receiver.reply(302, "", {"Location": f"{elsewhere.url}/hook"})
        with client_for(local) as client:
            refused = client.post("/subscribe", data={"webhook_url": f"{receiver.url}/a"})
            assert refused.status_code == 200 and "answered 401" in refused.text  # the code is in what it got
            moved = client.post("/subscribe", data={"webhook_url": f"{receiver.url}/b"})
            assert "answered 302" in moved.text and "no redirects" in moved.text
        assert elsewhere.requests == []
    assert len(receiver.requests) == 2


def test_no_answer_within_the_short_timeout_is_one_line_on_the_form(local, receiver, monkeypatch):
    monkeypatch.setattr(webhook, "VERIFY_TIMEOUT_SECONDS", 0.3)
    receiver.hang_next = True
    with client_for(local) as client:
        page = client.post("/subscribe", data={"webhook_url": f"{receiver.url}/slow"})
    assert page.status_code == 400 and "did not answer within" in page.text
    assert len(receiver.requests) == 1  # and it is not asked again


def test_sign_ups_are_counted_per_host_however_many_urls(database_url, receiver):
    settings = signup_settings(database_url, webhook_signup_allow_private=True, webhook_signup_rate_per_host="2/hour")
    with client_for(settings) as client:
        for path in ("/one", "/two"):
            assert client.post("/subscribe", data={"webhook_url": receiver.url + path}).status_code == 200
        third = client.post("/subscribe", data={"webhook_url": receiver.url + "/three"})
    assert third.status_code == 429 and "too many sign-ups for this host" in third.text
    assert len(receiver.requests) == 2
    assert [r["reason"] for r in refusals(settings)] == ["too many sign-ups for this host (at most 2/hour): try later"]


@pytest.mark.parametrize("where", ["https://localhost:{port}/hook", "https://127.0.0.1:{port}/hook",
                                   "https://[::1]:{port}/hook", "https://10.0.0.8/hook",
                                   "https://169.254.169.254/latest/meta-data", "https://100.64.0.1/x"])
def test_a_url_on_a_private_address_is_refused_before_any_request_and_audited(database_url, receiver, where):
    settings = signup_settings(database_url)  # the default: public addresses only
    url = where.format(port=receiver.url.rsplit(":", 1)[1])
    with client_for(settings) as client:
        page = client.post("/subscribe", data={"webhook_url": url})
    assert page.status_code == 400 and "not a public address" in page.text
    assert receiver.requests == []
    [refusal] = refusals(settings)
    assert refusal["address"] == url and "not a public address" in refusal["reason"]
    with transaction(settings.database_url) as s:
        assert s.scalar(select(SubscriptionRequest.id)) is None


@pytest.mark.parametrize("url, says", [("http://example.com/hook", "must be an https:// URL"),
                                       ("https://user:secret@example.com/hook", "without a user name or password"),
                                       ("ftp://example.com/", "must be an https:// URL"),
                                       ("https://example.invalid/hook", "does not resolve"),
                                       ("https://example.com/" + "a" * 2000, "at most 2000")])
def test_a_url_that_cannot_be_a_public_webhook_is_one_line_on_the_form(database_url, url, says):
    with client_for(signup_settings(database_url)) as client:
        page = client.post("/subscribe", data={"webhook_url": url})
    assert page.status_code == 400 and says in page.text


def test_the_request_goes_to_the_address_that_was_checked_with_the_hosts_name(local, receiver, monkeypatch):
    """No second lookup between the check and the connection: the name is resolved once per
    sign-up step and the request dials that address, with the host's own name in Host (and SNI)."""
    real = socket.getaddrinfo
    asked = []

    def resolve(host, port, *args, **kwargs):
        if host == "localhost":
            asked.append(host)
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    port = receiver.url.rsplit(":", 1)[1]
    with client_for(local) as client:
        assert client.post("/subscribe", data={"webhook_url": f"http://localhost:{port}/h"}).status_code == 200
    [request] = receiver.requests
    assert request.headers["host"] == f"localhost:{port}" and request.path == "/h"
    assert asked == ["localhost"]  # resolved once, by the check at the send; the connection used that answer


def test_a_host_that_turns_private_between_the_check_and_the_send_is_refused(database_url, monkeypatch):
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1"])  # public for the check, loopback for the send (rebinding)

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example.test":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings = signup_settings(database_url)
    with client_for(settings) as client:
        page = client.post("/subscribe", data={"webhook_url": "https://rebind.example.test/hook"})
    assert page.status_code == 400 and "not a public address" in page.text
    assert [r["reason"] for r in refusals(settings)] == [
        "webhook_url: 'rebind.example.test' resolves to 127.0.0.1, which is not a public address"]
