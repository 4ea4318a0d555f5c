"""Whatever anyone sends to a public route (non-ASCII, huge, malformed, out-of-range values in the
query or the form), the answer is a page or a refusal, never a 5xx (README: "never a 500")."""

import socket
import uuid

import pytest
from fastapi.testclient import TestClient

from broadcaster.surfaces import ROUTES
from broadcaster.web.app import create_app
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings

VALUES = ["", " ", "é", "ü" * 40, "\u202e\u0000x", "%ff%fe", "%ED%A0%80", "9" * 30, str(2**63), "-1", "0",
          "<script>alert(1)</script>", "a" * 100_000, "https://bücher.de/x", "https://[::1", "https://☃.net/",
          "+1 (415) 555-0100 ext. 9" * 20, "x@" + "é" * 300 + ".com"]
FIELDS = ["email", "phone", "webhook_url", "component", "token", "code", "s", "t", "action", "d"]
FORMS = ["/subscribe", "/subscribe/confirm", "/subscribe/verify", "/subscribe/manage", "/unsubscribe",
         "/webhooks/twilio/status", "/webhooks/sendgrid/events", "/hold/1", "/approve/1", "/login"]
PAGES = [*ROUTES, "/subscribe", "/subscribe/confirm", "/subscribe/manage", "/unsubscribe", "/hold/1", "/approve/1",
         "/hold/99999999999999999999", "/approve/-5"]


@pytest.fixture
def no_dns(monkeypatch):
    """Names typed into the form resolve nowhere (no lookup leaves the machine); IP literals still parse."""
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):
        try:
            return real(host, *args, **{**kwargs, "flags": socket.AI_NUMERICHOST})
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


@pytest.fixture(params=["public", "full"])
def client(request, database_url, no_dns):
    settings = make_settings(database_url, signup_rate_storage=f"memory://?{uuid.uuid4().hex}",
                             signup_rate="1000/hour", signup_rate_per_client="1000/hour", secret_key="s" * 40)
    app = create_public_app(settings) if request.param == "public" else create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def raw_query(fields: list[str], value: str) -> str:
    # Values already percent-encoded stay as they are (malformed UTF-8 on purpose); others are encoded.
    from urllib.parse import quote

    encoded = value if value.startswith("%") else quote(value, safe="")
    return "&".join(f"{name}={encoded}" for name in fields)


def test_no_query_makes_a_public_page_answer_5xx(client):
    for path in PAGES:
        for value in VALUES:
            answer = client.get(f"{path}?{raw_query(FIELDS, value[:5000])}")  # a URL holds 64 KiB at most
            assert answer.status_code < 500, (path, value[:40], answer.status_code, answer.text[:300])


def test_no_form_makes_a_public_route_answer_5xx(client):
    for path in FORMS:
        for value in VALUES:
            body = raw_query(FIELDS, value).encode()
            answer = client.post(path, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
            assert answer.status_code < 500, (path, value[:40], answer.status_code, answer.text[:300])
        for body in (b"\xff\xfe\x00", b"=&=&&==", b"email", b"{\"email\": 1}"):
            answer = client.post(path, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
            assert answer.status_code < 500, (path, body, answer.status_code, answer.text[:300])
