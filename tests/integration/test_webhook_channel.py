"""The webhook channel end to end: published through real Celery workers on Redis to a local
receiver, which verifies every signature with the Standard Webhooks library."""

import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from broadcaster.delivery import sendlog
from broadcaster.delivery.enqueue import enqueue, enqueue_due
from broadcaster.delivery.sweep import sweep
from broadcaster.incidents import publishing
from broadcaster.store.db import transaction
from broadcaster.store.models import Subscriber
from tests.conftest import actor, add_subscriber, make_settings
from tests.integration.engine import approved_statement, as_env, settled, status_counts, wait_until
from tests.unit.channels.stub_http import StubServer


@pytest.fixture
def values(database_url, redis_broker) -> dict:
    return {"database_url": database_url, "broker_url": redis_broker, "lease_seconds": 4,
            "sweep_interval_seconds": 1, "backoff_base_seconds": 0.5, "backoff_cap_seconds": 1}


@pytest.fixture
def workers(values, kept_workers):
    pool = kept_workers(as_env(values))
    pool.start()
    yield pool
    pool.stop_all()


def publish_and_settle(settings, statement_id) -> None:
    publishing.publish(settings, actor(settings, "alice"), statement_id, dispatch=enqueue)
    wait_until(lambda: sweep(settings, enqueue_due) is not None and settled(settings, statement_id), 60,
               "the fan-out to settle", poll=0.5)


def test_every_subscriber_gets_the_update_signed_with_its_own_secret(values, workers):
    settings = make_settings(**values)
    with StubServer() as receiver:
        subscribers = [add_subscriber(settings, webhook_url=f"{receiver.url}/hook/{i}") for i in range(3)]
        sid = approved_statement(settings)
        publish_and_settle(settings, sid)

    by_path = {r.path: r for r in receiver.requests}
    assert sorted(by_path) == [f"/hook/{i}" for i in range(3)]
    preview_hash = sendlog.send_log(settings, statement_id=sid, channel="webhook", status="sent")
    assert len(preview_hash) == 3
    for i, subscriber in enumerate(subscribers):
        request = by_path[f"/hook/{i}"]
        payload = Webhook(subscriber["webhook_secret"]).verify(
            request.body, {k.lower(): v for k, v in request.headers.items()})
        assert payload["headline"] == "Some customers cannot log in" and payload["version"] == 1
        assert len(payload["content_hash"]) == 64
        others = [s["webhook_secret"] for s in subscribers if s is not subscriber]
        with pytest.raises(WebhookVerificationError):
            Webhook(others[0]).verify(request.body, {k.lower(): v for k, v in request.headers.items()})
    assert status_counts(settings, sid).get("sent") == 4 + 3  # banner, status page, ivr, agent desk + 3 webhooks


def test_a_receiver_answering_410_is_unsubscribed_and_gets_nothing_more(values, workers):
    settings = make_settings(**values)
    with StubServer() as receiver:
        receiver.reply(410)
        gone = add_subscriber(settings, webhook_url=f"{receiver.url}/gone")
        first = approved_statement(settings)
        publish_and_settle(settings, first)
        with transaction(settings.database_url) as s:
            assert s.get(Subscriber, gone["id"]).opted_out_at is not None
        incident_id = json.loads(receiver.requests[0].body)["incident"]["id"]
        publish_and_settle(settings, approved_statement(settings, headline="Still down", incident_id=incident_id))
    assert len(receiver.requests) == 1
    (failed,) = sendlog.send_log(settings, statement_id=first, channel="webhook", status="failed")
    assert "410" in failed["detail"]


def test_a_receiver_that_fails_at_first_gets_the_update_on_a_later_attempt(values, workers):
    settings = make_settings(**values)
    with StubServer() as receiver:
        receiver.reply(503)
        add_subscriber(settings, webhook_url=f"{receiver.url}/flaky")
        sid = approved_statement(settings)
        publish_and_settle(settings, sid)
    statuses = [e["status"] for e in sendlog.send_log(settings, statement_id=sid, channel="webhook")]
    assert statuses[-1] == "sent" and len(receiver.requests) >= 2
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
