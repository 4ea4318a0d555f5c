"""The web app's own surfaces: /metrics, /healthz and the unsubscribe link, on a real database."""

import html
import re

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from broadcaster.audience import unsubscribe
from broadcaster.delivery import receipts
from broadcaster.web.app import create_app
from tests.conftest import make_settings
from tests.integration.rows import delivery, make_delivery, make_statement, make_subscriber, subscriber

SID = "SM" + "b" * 32


LOCAL = ("127.0.0.1", 50000)  # /metrics without BROADCASTER_METRICS_TOKEN answers on this host only


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings), client=LOCAL) as client:
        yield client


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_expose_the_outcome_counter_and_the_fleet_state_from_the_database(client, settings):
    statement = make_statement(settings)
    make_delivery(settings, statement, provider_message_id=SID)
    for _ in range(2):
        make_delivery(settings, statement, channel="email", target=f"c{_}@example.com", provider="sendgrid",
                      status="pending")
    labels = {"channel": "sms", "provider": "twilio", "status": "delivered"}
    before = REGISTRY.get_sample_value("broadcaster_deliveries_total", labels) or 0
    receipts.twilio_status(settings, {"MessageSid": SID, "MessageStatus": "delivered"})

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    exposed = samples(response.text)  # parsing it proves the scrape is well formed
    assert exposed[("broadcaster_deliveries_total", tuple(sorted(labels.items())))] == before + 1
    assert exposed[("broadcaster_deliveries_by_status", (("channel", "sms"), ("status", "delivered")))] == 1
    assert exposed[("broadcaster_deliveries_by_status", (("channel", "email"), ("status", "pending")))] == 2
    assert exposed[("broadcaster_metrics_database_up", ())] == 1
    assert re.search(r"^# TYPE broadcaster_provider_latency_seconds histogram$", response.text, re.M)


def test_metrics_still_answer_when_the_database_is_down(tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path}/missing/dir/broadcaster.db")
    with TestClient(create_app(settings), client=LOCAL) as client:
        response = client.get("/metrics")

    assert response.status_code == 200
    assert samples(response.text)[("broadcaster_metrics_database_up", ())] == 0


def test_metrics_without_a_token_set_answer_only_on_this_host(settings):
    with TestClient(create_app(settings), client=("203.0.113.9", 50000)) as remote:
        assert remote.get("/metrics").status_code == 403
    with TestClient(create_app(settings), client=LOCAL) as local:
        assert local.get("/metrics").status_code == 200
        # Through a proxy on this host, every client would look local: a forwarded request is not.
        assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
        for sign in ({"Via": "1.1 nginx"}, {"X-Forwarded-Proto": "https"}):  # a proxy that names no client
            assert local.get("/metrics", headers=sign).status_code == 403, sign
    with TestClient(create_app(settings), client=("::ffff:127.0.0.1", 50000)) as dual_stack:  # serve --host ::
        assert dual_stack.get("/metrics").status_code == 200


def test_metrics_with_a_token_set_ask_for_it_and_limit_wrong_ones(database_url):
    settings = make_settings(database_url, metrics_token="scrape-me-" + "s" * 30, login_rate_per_address="3/minute")
    with TestClient(create_app(settings), client=LOCAL) as local:
        assert local.get("/metrics").status_code == 401  # this host too, once a token is set
    with TestClient(create_app(settings), client=("203.0.113.9", 50000)) as remote:
        right = {"Authorization": f"bearer {settings.metrics_token}"}
        assert remote.get("/metrics", headers=right).status_code == 200
        missing = remote.get("/metrics")
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        wrong = [remote.get("/metrics", headers={"Authorization": f"Bearer guess-{i}"}).status_code
                 for i in range(4)]
        assert wrong == [401, 401, 401, 429]
        assert remote.get("/metrics", headers=right).status_code == 429  # the address waits, right or wrong
    with TestClient(create_app(settings), client=("203.0.113.10", 50000)) as other:
        assert other.get("/metrics", headers=right).status_code == 200


def test_a_scrape_storm_counts_the_deliveries_once(client, settings):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counts = []

    def seen(connection, cursor, statement, *args):
        if "GROUP BY deliveries.channel" in statement:
            counts.append(statement)
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        answers = [client.get("/metrics") for _ in range(8)]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert [a.status_code for a in answers] == [200] * 8 and len(counts) == 1
    assert len({a.text for a in answers}) == 1


def test_the_kept_scrape_is_computed_again_after_fifteen_seconds(settings):
    from broadcaster.web.scrape import CACHE_SECONDS, Scrapes

    now = [1000.0]
    scrapes = Scrapes(settings, clock=lambda: now[0])
    statement = make_statement(settings)
    make_delivery(settings, statement)
    first = samples(scrapes.exposition()[0].decode())
    make_delivery(settings, statement, target="+14155550199")
    now[0] += CACHE_SECONDS - 0.1
    assert samples(scrapes.exposition()[0].decode()) == first  # kept
    now[0] += 0.1
    counted = samples(scrapes.exposition()[0].decode())
    assert sum(v for (name, _), v in counted.items() if name == "broadcaster_deliveries_by_status") == 2


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_healthz_tells_the_public_only_not_ok_and_the_log_why(tmp_path, caplog):
    settings = make_settings(f"sqlite:///{tmp_path}/missing/dir/broadcaster.db")
    with TestClient(create_app(settings)) as client, caplog.at_level("ERROR", logger="broadcaster.api"):
        response = client.get("/healthz")

    assert (response.status_code, response.json()) == (503, {"ok": False})
    assert "unable to open database file" in caplog.text


@pytest.fixture
def link(settings) -> tuple[int, int, str]:
    """(subscriber id, delivery id, the unsubscribe URL's path and query)."""
    person = make_subscriber(settings, email="c1@example.com", phone="+14155550123")
    d = make_delivery(settings, make_statement(settings), channel="email", target="c1@example.com",
                      provider="sendgrid")
    return person, d, f"/unsubscribe?d={d}&t={unsubscribe.token_of_delivery(settings, d)}"


def test_unsubscribe_page_asks_first_and_changes_nothing(client, settings, link):
    person, _, url = link

    response = client.get(url)

    assert response.status_code == 200
    assert 'method="post"' in response.text and 'value="One-Click"' in response.text
    assert subscriber(settings, person).opted_out_at is None  # link scanners GET every link


def test_unsubscribe_pages_come_from_templates_and_escape_what_they_show(settings, link):
    _, _, url = link
    with TestClient(create_app(settings.model_copy(update={"company_name": "Acme <b>Cloud</b>"}))) as client:
        page = client.get(url).text

    assert "<title>Unsubscribe · Acme &lt;b&gt;Cloud&lt;/b&gt;</title>" in page
    assert "<b>Cloud</b>" not in page


def test_the_pages_button_unsubscribes(client, settings, link):
    person, _, url = link
    action = html.unescape(re.search(r'action="([^"]*)"', client.get(url).text).group(1))

    response = client.post("/unsubscribe" + action, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert subscriber(settings, person).opted_out_at is not None


def test_one_click_post_unsubscribes(client, settings, link):
    person, _, url = link

    response = client.post(url, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "no more status updates" in response.text
    assert subscriber(settings, person).opted_out_at is not None


def test_one_click_post_cancels_the_subscribers_unsent_sms(client, settings, link):
    _, d, url = link
    pending = make_delivery(settings, delivery(settings, d).statement_id, status="pending")

    client.post(url, data={"List-Unsubscribe": "One-Click"})

    assert delivery(settings, pending).status == "cancelled"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("query", ["t=0123456789abcdef0123456789abcdef", "", "d=x&t=abc"])
def test_bad_unsubscribe_link_is_403_and_changes_nothing(client, settings, link, method, query):
    person, d, _ = link
    url = f"/unsubscribe?d={d}&{query}" if query.startswith("t=") else f"/unsubscribe?{query}"

    response = getattr(client, method)(url)

    assert response.status_code == 403
    assert "unsubscribe link is not valid" in response.text
    assert subscriber(settings, person).opted_out_at is None
