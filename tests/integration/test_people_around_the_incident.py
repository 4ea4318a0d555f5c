"""The people around the incident, end to end through real `celery worker` processes on Redis: publishing
two versions of one incident puts the agent notes on the desk, sends the leadership list its email and
SMS with the stakeholder rendition (the official SDKs against the fake provider), posts to the Slack
fake (the second version threaded under the first) and the Teams fake (an Adaptive Card each), and keeps
the agent notes as one macro in the Zendesk fake (created, updated, retired by the resolving version);
an event endpoint that chose `agent_notes.published` receives each version's notes, signed, and one
registered for every type does not; the consistency audit lists the agent desk, the stakeholder
channels, Slack, Teams and Zendesk beside the customers'."""

import json

import pytest
from standardwebhooks import Webhook

from broadcaster import events
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
from tests.fakes.zendesk import FakeZendesk
from tests.integration.engine import Workers, as_env, provider_settings, settled, wait_until
from tests.unit.channels.stub_http import StubServer

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
def zendesk():
    with FakeZendesk() as fake:
        yield fake


@pytest.fixture
def values(database_url, redis_broker, fake, chat, zendesk) -> dict:
    return {**provider_settings(fake.url), **zendesk.settings(), "database_url": database_url,
            "broker_url": redis_broker,
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


def published_events(server, event_type: str) -> int:
    return sum(r.json()["type"] == event_type for r in server.requests)


def test_one_publish_reaches_agents_stakeholders_and_the_team_chat(values, workers, fake, chat, zendesk):
    settings = make_settings(**values)
    events.register_event_hooks()  # what the web app and the CLI do: this test process raises events
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    add_user(settings, "ann", ["agent"])
    alice = actor(settings, "alice")
    service.create_audience(settings, alice, "leadership")
    service.add_member(settings, alice, "leadership", "Chris CEO", email="ceo@example.com", phone="+14155550177")
    incident = statements.open_incident(settings, alice, "Login failures", "major", ["Login"])["id"]
    with StubServer() as helpdesk, StubServer() as everything:
        chosen = events.add_endpoint(settings, actor(settings, "root"), url=f"{helpdesk.url}/agent-notes",
                                     event_types=["agent_notes.published"])
        events.add_endpoint(settings, actor(settings, "root"), url=f"{everything.url}/events")
        check_two_versions(settings, incident, fake, chat, zendesk, helpdesk, everything, chosen["secret"])


def comment(macro: dict) -> str:
    return next(a["value"] for a in macro["actions"] if a["field"] == "comment_value_html")


def check_two_versions(settings, incident, fake, chat, zendesk, helpdesk, everything, secret):
    first = publish(settings, incident, StatementInput(
        status="investigating", headline="Some customers cannot log in", body="About 1 in 5 logins fail.",
        workaround="Use the mobile app", next_update="30m", agent_notes=NOTES, internal_notes=INTERNAL))
    (macro,) = zendesk.macros.values()
    v1_macro = dict(macro)
    second = publish(settings, incident, StatementInput(status="identified", body="We found the cause."))
    v2_macro = dict(zendesk.macros[macro["id"]])

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
    for name in ("agent", "stakeholder_email", "stakeholder_sms", "slack", "teams", "zendesk", "banner", "email"):
        assert channels[name]["state"] in ("current", "no targets"), (name, channels[name])
    assert all(channels[name]["shows_version"] == 2
               for name in ("agent", "stakeholder_email", "slack", "teams", "zendesk"))

    # Zendesk: one macro, made by v1 with its approved agent notes and hash, updated by v2 in place.
    v1_notes = desk.versions(settings, actor(settings, "ann"), incident)["versions"][1]["notes"]
    assert first["content_hash"] in v1_macro["description"] and v1_macro["active"] is True
    assert v1_notes["say"] in comment(v1_macro) and "Is my data safe?" in comment(v1_macro)
    assert second["content_hash"] in v2_macro["description"] and card["notes"]["say"] in comment(v2_macro)

    # The agent-notes event: to the endpoint that chose it, each version's notes, signed; never to the
    # endpoint registered for every type (which gets statement.published).
    def each_event() -> dict:  # by webhook-id: a resend (after a slow answer) is the same event
        return {r.headers["webhook-id"]: r for r in helpdesk.requests}
    wait_until(lambda: len(each_event()) >= 2 and published_events(everything, "statement.published") >= 2,
               30, "both versions' events", poll=0.3)
    notes = [Webhook(secret).verify(r.body, {k.lower(): v for k, v in r.headers.items()})
             for r in each_event().values()]
    assert [e["type"] for e in notes] == ["agent_notes.published"] * 2
    by_version = {e["data"]["statement"]["version"]: e["data"] for e in notes}
    assert by_version[1]["statement"]["content_hash"] == first["content_hash"]
    assert by_version[2]["statement"]["content_hash"] == second["content_hash"]
    assert by_version[2]["notes"]["say"] == card["notes"]["say"]
    assert by_version[1]["notes"]["answers"] == NOTES["answers"]
    assert by_version[1]["incident"] == {"id": incident, "title": "Login failures"}
    assert published_events(everything, "agent_notes.published") == 0

    # The version that resolves the incident retires the macro: kept, inactive, with the last words.
    third = publish(settings, incident, StatementInput(status="resolved", resolution="Logins work again",
                                                       body="Fixed at 15:10."))
    (retired,) = zendesk.macros.values()
    assert retired["id"] == macro["id"] and retired["active"] is False
    assert third["content_hash"] in retired["description"] and "Logins work again" in comment(retired)
    assert [method for method, _, _ in zendesk.writes] == ["POST", "PUT", "PUT"]
