"""Every try on the public form counts against the client's rates before the address is checked (a
webhook URL's check resolves its host name), the form never names the address a name resolves to
(the audit trail does), email confirmations have a cap in all, and an IPv6 client is counted by its
/64. Names resolve through a stubbed resolver (tests.fakes.receivers): nothing is dialled."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from broadcaster.channels import webhook
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings
from tests.fakes.receivers import FakeInternet

SITE = "https://status.example.com"


def settings_for(database_url, **overrides):
    # a limiter of this test's own: the in-memory one lives as long as the process
    return make_settings(database_url, **{"status_page_url": SITE, "secret_key": "s" * 40,
                                          "signup_rate_storage": f"memory://?{uuid.uuid4().hex}", **overrides})


@pytest.fixture(autouse=True)
def _fresh_dns_answers():
    webhook._checked.clear()
    yield
    webhook._checked.clear()


@pytest.fixture
def internet(monkeypatch):
    return FakeInternet(monkeypatch)


def refusals(settings) -> list[dict]:
    with transaction(settings.database_url) as s:
        return list(s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "refused: subscribe")
                                 .order_by(AuditEvent.id)))


def test_a_name_that_resolves_inside_is_refused_without_naming_its_address(database_url, internet):
    internet.host("vm", "10.20.30.40")  # a docker-compose service's name, say
    settings = settings_for(database_url)
    with TestClient(create_public_app(settings)) as client:
        page = client.post("/subscribe", data={"webhook_url": "https://vm/"})
    assert page.status_code == 400 and "vm&#39; is not a public address" in page.text
    assert "10.20.30.40" not in page.text and internet.dialled == []
    # The operator reading the audit trail still sees where it pointed.
    assert [r["reason"] for r in refusals(settings)] == [
        "webhook_url: 'vm' resolves to 10.20.30.40, which is not a public address"]


def test_tries_refused_as_not_public_use_up_the_clients_tries_before_any_lookup(database_url, internet):
    internet.host("vm", "127.0.0.1")
    settings = settings_for(database_url)  # the defaults: 5 webhook sign-ups a client an hour
    statuses = []
    with TestClient(create_public_app(settings)) as client:
        for _ in range(8):
            webhook._checked.clear()  # no kept answer: each try that gets as far as the check looks the name up
            statuses.append(client.post("/subscribe", data={"webhook_url": "https://vm/"}).status_code)
        last = client.post("/subscribe", data={"webhook_url": "https://vm/"})
    assert statuses == [400] * 5 + [429] * 3 and internet.looked_up == ["vm"] * 5
    assert "too many sign-ups from your connection (at most 5/hour)" in last.text


def test_email_confirmations_have_a_cap_in_all(database_url):
    settings = settings_for(database_url, email_signup_rate="2/hour")
    answers = []
    for i in range(3):  # three clients, three addresses: only the cap in all is reached
        with TestClient(create_public_app(settings), client=(f"192.0.2.{i + 1}", 50000)) as client:
            answers.append(client.post("/subscribe", data={"email": f"reader{i}@example.com"}))
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "too many sign-ups just now (at most 2/hour)" in answers[2].text


def test_an_ipv6_client_is_counted_by_its_64(database_url):
    settings = settings_for(database_url, signup_rate_per_client="2/hour")
    app = create_public_app(settings)

    def sign_up(client_address: str, email: str) -> int:
        with TestClient(app, client=(client_address, 50000)) as client:
            return client.post("/subscribe", data={"email": email}).status_code

    rotated = [sign_up(address, f"r{i}@example.com") for i, address in enumerate(
        ("2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2:ffff::c"))]
    assert rotated == [200, 200, 429]  # one /64, however many of its addresses
    assert sign_up("2001:db8:1:3::a", "other@example.com") == 200  # the next /64 is another client
