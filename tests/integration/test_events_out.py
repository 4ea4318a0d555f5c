"""Events out end to end: endpoints an admin registered receive every event type as Standard Webhooks,
through real Celery workers on Redis, and a local receiver verifies each one with the standardwebhooks
library; the agent notes (`agent_notes.published`, internal) only where an endpoint chose them. A
receiver failing at first (500, then 200) is retried, and the publish it reports is not
held up by it."""

import time

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from broadcaster import events
from broadcaster.delivery import pause, sendlog
from broadcaster.delivery.enqueue import enqueue, enqueue_due
from broadcaster.delivery.sweep import sweep
from broadcaster.domain.errors import InvalidInput, NotAllowed
from broadcaster.domain.event_types import CHOSEN_ONLY, EventType
from broadcaster.domain.message_secrets import MessageKind
from broadcaster.incidents import publishing
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery, Message
from tests.conftest import actor, add_subscriber, add_user, make_settings
from tests.integration.engine import approved_statement, as_env, settled, status_counts, wait_until
from tests.unit.channels.stub_http import Scripted, StubServer


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


def verified(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, {k.lower(): v for k, v in request.headers.items()})


def event_deliveries(settings) -> list[tuple[str, str]]:
    """(event type, status) of every event delivery."""
    with transaction(settings.database_url) as s:
        return list(s.execute(select(Message.subject, Delivery.status)
                              .join(Message, Message.id == Delivery.message_id)
                              .where(Message.kind == MessageKind.EVENT.value)).all())


def test_every_event_type_reaches_its_endpoint_signed_and_a_failing_one_is_retried(values, workers):
    settings = make_settings(**values)
    events.register_event_hooks()  # what the web app and the CLI do: this test process raises events
    add_user(settings, "ops", ["admin"])
    with StubServer() as receiver, StubServer() as flaky, StubServer(default=Scripted(400)) as refusing, \
            StubServer() as helpdesk:
        flaky.reply(500)  # the first attempt fails, the next succeeds
        everything = events.add_endpoint(settings, actor(settings, "ops"), url=f"{receiver.url}/events")
        published_only = events.add_endpoint(settings, actor(settings, "ops"), url=f"{flaky.url}/events",
                                             event_types=["statement.published"])
        notes_only = events.add_endpoint(settings, actor(settings, "ops"), url=f"{helpdesk.url}/notes",
                                         event_types=["agent_notes.published"])
        # "Every type" is every type but the internal agent notes, which go only where they are chosen.
        assert everything["event_types"] == [t.value for t in EventType if t not in CHOSEN_ONLY]
        assert "agent_notes.published" not in everything["event_types"]
        add_subscriber(settings, webhook_url=f"{refusing.url}/hook")  # its update fails: delivery.failed

        sid = approved_statement(settings)  # incident.opened, statement.submitted, statement.approved
        started = time.monotonic()
        publishing.publish(settings, actor(settings, "alice"), sid, dispatch=enqueue)
        took = time.monotonic() - started
        pause.pause(settings, "sms", "the provider refused our credentials (test)")
        pause.resume(settings, "sms")

        def all_arrived() -> bool:
            sweep(settings, enqueue_due)  # what beat does: due retries go back on the broker
            types = {r.json()["type"] for r in receiver.requests}
            return (len(types) == len(EventType) - len(CHOSEN_ONLY) and helpdesk.requests
                    and any(r.headers.get("webhook-id") for r in flaky.requests[1:]))
        wait_until(all_arrived, 60, "every event type, and the retried one", poll=0.3)
        wait_until(lambda: settled(settings, sid), 30, "the publish to settle", poll=0.3)

    # Each event verifies with its endpoint's secret, and its id is its own.
    payloads = [verified(everything["secret"], r) for r in receiver.requests]
    assert sorted({p["type"] for p in payloads}) == sorted(t.value for t in EventType if t not in CHOSEN_ONLY)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == len(ids) and all(i.startswith("evt_") for i in ids)
    by_type = {p["type"]: p for p in payloads}
    assert by_type["statement.published"]["data"]["statement"]["id"] == sid
    assert by_type["statement.published"]["data"]["statement"]["state"] == "published"
    assert by_type["incident.opened"]["data"]["incident"]["title"] == "Login failures"
    assert by_type["channel.paused"]["data"] == {"channel": "sms",
                                                 "reason": "the provider refused our credentials (test)"}
    failed = by_type["delivery.failed"]["data"]
    assert failed["failed"] == 1 and failed["deliveries"][0]["channel"] == "webhook"
    assert failed["deliveries"][0]["statement_id"] == sid and failed["deliveries"][0]["error_code"] == "400"
    with pytest.raises(Exception):  # noqa: B017 - any verification error: another endpoint's secret
        verified(published_only["secret"], receiver.requests[0])

    # The agent notes: to the endpoint that chose them, signed, the live version's approved notes and hash;
    # never in what a webhook subscriber from the public form receives.
    assert len({r.headers["webhook-id"] for r in helpdesk.requests}) == 1  # one event (a retry keeps its id)
    notes = verified(notes_only["secret"], helpdesk.requests[-1])
    assert notes["type"] == "agent_notes.published"
    assert notes["data"]["statement"]["id"] == sid and notes["data"]["statement"]["version"] == 1
    assert notes["data"]["statement"]["content_hash"] == by_type["statement.published"]["data"]["statement"][
        "content_hash"]
    assert "Some customers cannot log in" in notes["data"]["notes"]["say"]
    assert notes["data"]["incident"]["title"] == "Login failures"
    assert refusing.requests and not any(b"agent_notes" in r.body or notes["data"]["notes"]["say"].encode() in r.body
                                         for r in refusing.requests)

    # The failing endpoint: only what it asked for, retried under the same id until it answered 200.
    assert len(flaky.requests) >= 2 and {r.json()["type"] for r in flaky.requests} == {"statement.published"}
    assert len({r.headers["webhook-id"] for r in flaky.requests}) == 1
    assert verified(published_only["secret"], flaky.requests[-1])["data"]["statement"]["id"] == sid
    # ...and the publish did not wait for it: it returned at once, its own deliveries all sent.
    assert took < 5, f"publish took {took:.1f} s"
    counts = status_counts(settings, sid)  # the live surfaces sent (the unconfigured simulated); the 400 webhook failed
    assert counts["sent"] >= 3 and counts["failed"] == 1 and set(counts) <= {"sent", "failed", "simulated"}
    assert sendlog.send_log(settings, statement_id=sid, channel="banner", status="sent")
    # Every event is in the send log (`broadcaster log --kind event`); the 500 was retried at once (the
    # engine's quick retry), and the log ends in sent.
    log = sendlog.send_log(settings, kind=MessageKind.EVENT.value, target=f"{flaky.url}/events")
    assert [e["status"] for e in log] == ["pending", "sending", "sent"]
    assert len(sendlog.send_log(settings, kind=MessageKind.EVENT.value, status="sent")) == len(EventType) + 1
    assert all(status == "sent" for _, status in event_deliveries(settings))


def test_endpoints_are_for_admins_and_their_urls_are_checked(database_url):
    settings = make_settings(database_url)
    add_user(settings, "ops", ["admin"])
    add_user(settings, "alice", ["author"])
    with pytest.raises(NotAllowed):
        events.add_endpoint(settings, actor(settings, "alice"), url="https://example.com/hook")
    for url, problem in (("http://example.com/hook", "https"), ("https://10.0.0.8/hook", "private"),
                         ("ftp://example.com", "https")):
        with pytest.raises(InvalidInput, match=problem):
            events.add_endpoint(settings, actor(settings, "ops"), url=url)
    with pytest.raises(InvalidInput, match="not one of"):
        events.add_endpoint(settings, actor(settings, "ops"), url="https://example.com/hook", event_types=["nope"])
    made = events.add_endpoint(settings, actor(settings, "ops"), url="https://example.com/hook",
                               event_types=["channel.paused", "incident.opened"])
    assert made["event_types"] == ["incident.opened", "channel.paused"] and made["secret"].startswith("whsec_")
    (listed,) = events.list_endpoints(settings, actor(settings, "ops"))
    assert "secret" not in listed and listed["url"] == "https://example.com/hook"
    events.remove_endpoint(settings, actor(settings, "ops"), endpoint_id=made["id"])
    assert events.list_endpoints(settings, actor(settings, "ops")) == []


def test_the_api_adds_lists_and_removes_endpoints_for_admins_only(tmp_path, sqlite_template):
    import shutil

    from tests.integration.api_fixtures import copy_of, install

    shutil.copy(sqlite_template, tmp_path / "template.db")
    api = install(make_settings(copy_of(tmp_path / "template.db", tmp_path)))
    admin, author = api.as_role("admin"), api.as_role("author")
    body = {"url": "https://hooks.example.com/broadcaster", "event_types": ["incident.opened"]}
    assert api.client.post("/api/v1/event-endpoints", json=body, headers=author).status_code == 403
    made = api.client.post("/api/v1/event-endpoints", json=body, headers=admin)
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    bad = api.client.post("/api/v1/event-endpoints", json={"url": "https://10.1.2.3/x"}, headers=admin)
    assert bad.status_code == 422 and "private address" in bad.json()["detail"]
    unknown = api.client.post("/api/v1/event-endpoints", json={**body, "event_types": ["nope"]}, headers=admin)
    assert unknown.status_code == 422
    listed = api.client.get("/api/v1/event-endpoints", headers=admin).json()
    assert [e["url"] for e in listed] == [body["url"]] and "secret" not in listed[0]
    assert api.client.delete(f"/api/v1/event-endpoints/{made.json()['id']}", headers=admin).status_code == 200
    assert api.client.delete(f"/api/v1/event-endpoints/{made.json()['id']}", headers=admin).status_code == 404
    assert api.client.get("/api/v1/event-endpoints", headers=admin).json() == []
