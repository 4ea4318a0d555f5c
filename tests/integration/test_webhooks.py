"""The provider webhooks over HTTP: signatures checked with the providers' own SDKs, on a real
database. A refused request must leave the delivery and the send log exactly as they were."""

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from broadcaster.web.app import create_app
from tests.conftest import make_settings
from tests.integration.rows import (
    delivery,
    event_count,
    events,
    make_delivery,
    make_statement,
    make_subscriber,
    subscriber,
)

PUBLIC_URL = "https://status-admin.example.com"
TWILIO_TOKEN = "twilio-auth-token"
TWILIO_PATH = "/webhooks/twilio/status"
SID = "SM" + "a" * 32
SENDGRID_PATH = "/webhooks/sendgrid/events"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


@pytest.fixture(scope="module")
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """What SendGrid's settings page shows: the DER public key, base64, no PEM armour."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sendgrid_signature(key: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str) -> str:
    return base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


@pytest.fixture
def configured(database_url, sendgrid_key):
    return make_settings(database_url, public_url=PUBLIC_URL + "/", twilio_auth_token=TWILIO_TOKEN,
                         twilio_account_sid="AC" + "0" * 32, sendgrid_webhook_public_key=public_key_text(sendgrid_key))


@pytest.fixture
def client(configured):
    with TestClient(create_app(configured)) as client:
        yield client


@pytest.fixture
def sms(configured) -> int:
    return make_delivery(configured, make_statement(configured), provider_message_id=SID)


@pytest.fixture
def email(configured) -> int:
    return make_delivery(configured, make_statement(configured), channel="email", target="c1@example.com",
                         provider="sendgrid")


def twilio_form(status: str = "delivered", **extra) -> dict:
    return {"MessageSid": SID, "MessageStatus": status, "To": "+14155550123", "AccountSid": "AC" + "0" * 32, **extra}


def twilio_signature(form: dict, url: str = PUBLIC_URL + TWILIO_PATH, token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def test_signed_twilio_delivered_moves_the_delivery_to_delivered(client, configured, sms):
    form = twilio_form()

    response = client.post(TWILIO_PATH, data=form, headers={"X-Twilio-Signature": twilio_signature(form)})

    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "delivered"}
    assert delivery(configured, sms).status == "delivered"
    assert events(configured, sms) == ["delivered"]


def test_twilio_callback_url_may_carry_the_delivery_id(client, configured):
    d = make_delivery(configured, make_statement(configured), status="sending")  # sid not recorded yet
    form, path = twilio_form("undelivered", ErrorCode="30003"), f"{TWILIO_PATH}?d={d}"

    response = client.post(path, data=form, headers={"X-Twilio-Signature": twilio_signature(form, PUBLIC_URL + path)})

    assert response.json() == {"outcome": "undelivered"}
    assert (delivery(configured, d).status, delivery(configured, d).error_code) == ("undelivered", "30003")


@pytest.mark.parametrize("headers, says", [
    ({}, "X-Twilio-Signature header is missing"),
    ({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, "does not match"),
    # Signed for the URL the app sees behind the proxy, not the public one Twilio was given.
    ({"X-Twilio-Signature": twilio_signature(twilio_form(), "http://testserver" + TWILIO_PATH)}, "does not match"),
    ({"X-Twilio-Signature": twilio_signature(twilio_form(), token="someone else's token")}, "does not match"),
])
def test_bad_twilio_signature_changes_nothing(client, configured, sms, headers, says):
    response = client.post(TWILIO_PATH, data=twilio_form(), headers=headers)

    assert response.status_code == 403
    assert says in response.json()["detail"]
    assert delivery(configured, sms).status == "sent"
    assert event_count(configured) == 0


def test_twilio_callback_is_refused_without_an_auth_token_configured(database_url):
    settings = make_settings(database_url, public_url=PUBLIC_URL)
    d = make_delivery(settings, make_statement(settings), provider_message_id=SID)
    form = twilio_form()

    with TestClient(create_app(settings)) as client:
        response = client.post(TWILIO_PATH, data=form, headers={"X-Twilio-Signature": twilio_signature(form)})

    assert response.status_code == 403
    assert "BROADCASTER_TWILIO_AUTH_TOKEN is not set" in response.json()["detail"]
    assert delivery(settings, d).status == "sent"


def signed_sendgrid(key, batch: list[dict], timestamp: str | None = None) -> tuple[bytes, dict]:
    timestamp = timestamp or str(int(time.time()))
    body = json.dumps(batch).encode()
    return body, {SIGNATURE_HEADER: sendgrid_signature(key, body, timestamp), TIMESTAMP_HEADER: timestamp,
                  "Content-Type": "application/json"}


def test_signed_sendgrid_bounce_marks_the_delivery_bounced(client, configured, email, sendgrid_key):
    body, headers = signed_sendgrid(sendgrid_key, [
        {"event": "processed", "delivery_id": str(email), "email": "c1@example.com"},
        {"event": "bounce", "delivery_id": str(email), "email": "c1@example.com", "status": "5.1.1",
         "reason": "550 5.1.1 no such user", "type": "bounce"}])

    response = client.post(SENDGRID_PATH, content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"ignored": 1, "bounced": 1}
    assert delivery(configured, email).status == "bounced"
    assert events(configured, email) == ["bounced"]


def test_signed_sendgrid_unsubscribe_opts_the_subscriber_out(client, configured, email, sendgrid_key):
    person = make_subscriber(configured, email="c1@example.com")
    body, headers = signed_sendgrid(sendgrid_key, [
        {"event": "unsubscribe", "delivery_id": str(email), "email": "c1@example.com"}])

    response = client.post(SENDGRID_PATH, content=body, headers=headers)

    assert response.json() == {"opted out": 1}
    assert subscriber(configured, person).opted_out_at is not None


BOUNCE = [{"event": "bounce", "delivery_id": "1", "email": "c1@example.com"}]


@pytest.mark.parametrize("tamper, says", [
    (lambda body, headers: (body, {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}),
     f"{SIGNATURE_HEADER} header is missing"),
    (lambda body, headers: (body, {k: v for k, v in headers.items() if k != TIMESTAMP_HEADER}),
     f"{TIMESTAMP_HEADER} header is missing"),
    (lambda body, headers: (body.replace(b"bounce", b"delivered"), headers), "does not match"),
    (lambda body, headers: (body, {**headers, TIMESTAMP_HEADER: str(int(headers[TIMESTAMP_HEADER]) + 1)}),
     "does not match"),
    (lambda body, headers: (body, {**headers, SIGNATURE_HEADER: "not base64!"}), "does not match"),
])
def test_bad_sendgrid_signature_changes_nothing(client, configured, email, sendgrid_key, tamper, says):
    body, headers = tamper(*signed_sendgrid(sendgrid_key, [{**BOUNCE[0], "delivery_id": str(email)}]))

    response = client.post(SENDGRID_PATH, content=body, headers=headers)

    assert response.status_code == 403
    assert says in response.json()["detail"]
    assert delivery(configured, email).status == "sent"
    assert event_count(configured) == 0


@pytest.mark.parametrize("seconds_ago, says", [(301, "ago"), (3600, "ago"), (-400, "in the future")])
def test_sendgrid_batch_signed_long_ago_is_refused_as_a_replay(client, configured, email, sendgrid_key,
                                                              seconds_ago, says):
    body, headers = signed_sendgrid(sendgrid_key, [{**BOUNCE[0], "delivery_id": str(email)}],
                                    timestamp=str(int(time.time()) - seconds_ago))

    response = client.post(SENDGRID_PATH, content=body, headers=headers)

    assert response.status_code == 403
    assert f"s {says}, more than 300 s (a replayed request" in response.json()["detail"]
    assert delivery(configured, email).status == "sent"
    assert event_count(configured) == 0


def test_sendgrid_batch_signed_a_minute_ago_is_accepted(client, configured, email, sendgrid_key):
    body, headers = signed_sendgrid(sendgrid_key, [{**BOUNCE[0], "delivery_id": str(email)}],
                                    timestamp=str(int(time.time()) - 60))

    assert client.post(SENDGRID_PATH, content=body, headers=headers).status_code == 200
    assert delivery(configured, email).status == "bounced"


def test_sendgrid_signed_by_another_key_changes_nothing(client, configured, email):
    body, headers = signed_sendgrid(ec.generate_private_key(ec.SECP256R1()),
                                    [{**BOUNCE[0], "delivery_id": str(email)}])

    response = client.post(SENDGRID_PATH, content=body, headers=headers)

    assert response.status_code == 403
    assert delivery(configured, email).status == "sent"


def test_sendgrid_webhook_is_refused_without_a_public_key_configured(database_url, sendgrid_key):
    settings = make_settings(database_url)
    d = make_delivery(settings, make_statement(settings), channel="email", target="c1@example.com",
                      provider="sendgrid")
    body, headers = signed_sendgrid(sendgrid_key, [{**BOUNCE[0], "delivery_id": str(d)}])

    with TestClient(create_app(settings)) as client:
        response = client.post(SENDGRID_PATH, content=body, headers=headers)

    assert response.status_code == 403
    assert "BROADCASTER_SENDGRID_WEBHOOK_PUBLIC_KEY is not set" in response.json()["detail"]
    assert delivery(settings, d).status == "sent"
