"""The people around the incident, end to end through real `celery worker` processes on Redis: publishing
two versions of one incident puts the agent notes on the desk, sends the leadership list its email and
SMS with the stakeholder rendition (the official SDKs against the fake provider), posts to the Slack
fake (the second version threaded under the first) and the Teams fake (an Adaptive Card each); the
consistency audit lists the agent desk, the stakeholder channels, Slack and Teams beside the customers'."""

import json

import pytest

from broadcaster.agents import desk
from broadcaster.approvals import decisions
from broadcaster.delivery.enqueue import enqueue, enqueue_due
from broadcaster.delivery.sweep import sweep
from broadcaster.incidents import consistency, publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.stakeholders import audiences as service
from tests.conftest import actor, add_user, make_settings
from tests.fakes.chat import FakeChat
from tests.fakes.server import running_fake
from tests.integration.engine import Workers, as_env, provider_settings, settled, wait_until

NOTES = {"answers": [{"question": "Is my data safe?", "answer": "Yes: only signing in is affected."}]}
INTERNAL = {"owner": "Dana Reyes", "eta": "15:30, not said publicly"}


@pytest.fixture
def backend() -> str:
    return "postgresql"  # the workers' claims and the fan-out on the production database; SQLite: the use cases


@pytest.fixture
def chat():
    with FakeChat() as fake:
        yield fake


@pytest.fixture
def fake():
    with running_fake() as server:
        yield server


@pytest.fixture
def values(database_url, redis_broker, fake, chat) -> dict:
    return {**provider_settings(fake.url), "database_url": database_url, "broker_url": redis_broker,
            "lease_seconds": 4, "sweep_interval_seconds": 1, "slack_bot_token": chat.token,
            "slack_channel": "C0INCIDENT", "slack_api_url": chat.slack_url, "slack_rate": "100/second",
            "teams_webhook_url": chat.teams_url, "teams_rate": "100/second"}


@pytest.fixture
def workers(values, tmp_path):
    pool = Workers(as_env(values), tmp_path)
    pool.start()
    yield pool
    pool.stop_all()


def publish(settings, incident_id, fields: StatementInput) -> dict:
    alice, bob = actor(settings, "alice"), actor(settings, "bob")
    statement = statements.draft(settings, alice, incident_id, fields)
    statements.submit(settings, alice, statement["id"])
    decisions.approve(settings, bob, statement["id"])
    result = publishing.publish(settings, alice, statement["id"], dispatch=enqueue)
    wait_until(lambda: sweep(settings, enqueue_due) is not None and settled(settings, statement["id"]), 60,
               "every delivery to settle", poll=0.5)
    return result


def test_one_publish_reaches_agents_stakeholders_and_the_team_chat(values, workers, fake, chat):
    settings = make_settings(**values)
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    add_user(settings, "ann", ["agent"])
    alice = actor(settings, "alice")
    service.create_audience(settings, alice, "leadership")
    service.add_member(settings, alice, "leadership", "Chris CEO", email="ceo@example.com", phone="+14155550177")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])["id"]

    first = publish(settings, incident, StatementInput(
        status="investigating", headline="Some customers cannot log in", body="About 1 in 5 logins fail.",
        workaround="Use the mobile app", next_update="30m", agent_notes=NOTES, internal_notes=INTERNAL))
    second = publish(settings, incident, StatementInput(status="identified", body="We found the cause."))

    (card,) = desk.desk(settings, actor(settings, "ann"))["incidents"]
    assert card["version"] == 2 and card["content_hash"] == second["content_hash"]
    assert "We have found the cause" in card["notes"]["say"] and card["notes"]["answers"] == NOTES["answers"]

    sent = fake.messages()
    emails = [m for m in sent["email"] if m["to"] == "ceo@example.com"]
    assert len(emails) == 2 and all(m["subject"].startswith("Internal: ") for m in emails)
    text = next(part["value"] for part in emails[0]["content"] if part["type"] == "text/plain")
    assert "Owner: Dana Reyes" in text and "ETA (internal, not said publicly): 15:30" in text
    texts = [m["body"] for m in sent["sms"] if m["to"] == "+14155550177"]
    assert len(texts) == 2 and ", internal: Investigating: Some customers cannot log in. Owner: Dana Reyes." in texts[0]

    posts = chat.slack_posts
    assert len(posts) == 2 and "thread_ts" not in posts[0] and posts[1]["thread_ts"] == posts[0]["ts"]
    assert posts[0]["blocks"][0]["text"]["text"] == "Login failures · v1"
    assert [json.dumps(c["attachments"][0]["content"]) for c in chat.teams_cards][1].count("v2") == 1
    assert first["content_hash"] != second["content_hash"]

    report = consistency.consistency_report(settings)
    channels = report["incidents"][0]["channels"]
    for name in ("agent", "stakeholder_email", "stakeholder_sms", "slack", "teams", "banner", "email"):
        assert channels[name]["state"] in ("current", "no targets"), (name, channels[name])
    assert all(channels[name]["shows_version"] == 2 for name in ("agent", "stakeholder_email", "slack", "teams"))
