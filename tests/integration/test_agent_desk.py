"""Agent notes approved with the statement, and the agent desk that shows the live ones: rendered at
submit, limit-checked, covered by the content hash; shown on the desk once published (the database
says what the desk shows), version by version; read-only for the `agent` role."""

from datetime import datetime, timedelta

import pytest

from broadcaster.agents import desk
from broadcaster.approvals import decisions
from broadcaster.delivery.chunk import send_now
from broadcaster.domain.errors import InvalidInput, LimitExceeded, NotAllowed
from broadcaster.incidents import consistency, publishing, statements
from broadcaster.incidents.statements import StatementInput
from tests.conftest import actor, add_user, make_settings

NOTES = {"answers": [{"question": "Is my data safe?", "answer": "Yes: only signing in is affected."},
                     {"question": "Can I get a refund?", "answer": "Billing will follow up if a credit applies."}],
         "do_not_promise": "Do not say it is fixed before the status page does"}
FIELDS = StatementInput(status="investigating", headline="Some customers cannot log in",
                        body="About 1 in 5 logins fail.", workaround="Use the mobile app.", next_update="30m",
                        agent_notes=NOTES)


def publish_version(settings, incident_id, fields=FIELDS) -> dict:
    statement = statements.draft(settings, actor(settings, "alice"), incident_id, fields)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    decisions.approve(settings, actor(settings, "bob"), statement["id"])
    return publishing.publish(settings, actor(settings, "alice"), statement["id"], dispatch=send_now)


@pytest.fixture
def agents(settings, world):
    add_user(settings, "ann", ["agent"])
    return world


def test_agent_notes_are_rendered_limit_checked_and_covered_by_the_hash(settings, agents):
    draft = statements.draft(settings, actor(settings, "alice"), agents, FIELDS)
    preview = statements.preview(settings, draft["id"])
    agent = preview["channels"]["agent"]
    assert "Some customers cannot log in. We are aware of the problem" in agent["say"]
    assert "Use the mobile app." in agent["workaround"] and "Next update by" in agent["next_update"]
    assert agent["avoid"].startswith("Do not say it is fixed before the status page does.\n")
    assert '"question": "Is my data safe?"' in agent["answers"]
    assert {check["name"] for check in agent["limits"]} == {"answers", "length"} and agent["ok"]
    # One answer changed: another hash, so an approval of the first words approves nothing of these.
    other = statements.edit(settings, actor(settings, "alice"), draft["id"], StatementInput(agent_notes={
        **NOTES, "answers": [{"question": "Is my data safe?", "answer": "We think so."}]}))
    assert statements.preview(settings, other["id"])["content_hash"] != preview["content_hash"]
    # Notes too long to read between calls cannot be submitted, and the refusal says which limit.
    long = statements.edit(settings, actor(settings, "alice"), draft["id"], StatementInput(agent_notes={
        "answers": [{"question": f"Question {n}?", "answer": "word " * 190} for n in range(10)]}))
    with pytest.raises(LimitExceeded, match=r"agent: length is \d+ characters, limit 8000, over by"):
        statements.submit(settings, actor(settings, "alice"), long["id"])


def test_bad_agent_notes_are_refused_saying_which_field(settings, agents):
    with pytest.raises(InvalidInput, match=r"agent_notes.answers.0.answer"):
        StatementInput.parse({"agent_notes": {"answers": [{"question": "Why?", "answer": ""}]}}, "file")
    with pytest.raises(InvalidInput, match=r"agent_notes.answers: List should have at most 20 items"):
        StatementInput.parse({"agent_notes": {"answers": [{"question": "q", "answer": "a"}] * 21}}, "file")


def test_the_desk_shows_the_live_notes_and_every_version(settings, agents):
    ann = actor(settings, "ann")
    assert desk.desk(settings, ann)["incidents"] == []
    first = publish_version(settings, agents)
    shown = desk.desk(settings, ann)
    (card,) = shown["incidents"]
    assert card["version"] == 1 and card["content_hash"] == first["content_hash"]
    assert card["notes"]["answers"][0] == NOTES["answers"][0]
    assert shown["signature"] == f"{agents}:1"
    # The next version keeps the notes (an update starts from the latest) and replaces the first on the desk.
    publish_version(settings, agents, StatementInput(status="identified", headline="Some customers cannot log in",
                                                     body="We found the cause.", next_update="30m"))
    (card,) = desk.desk(settings, ann)["incidents"]
    assert card["version"] == 2 and "We have found the cause" in card["notes"]["say"]
    assert [v["version"] for v in card["versions"]] == [2, 1] and card["notes"]["answers"] == NOTES["answers"]
    assert desk.versions(settings, ann, agents)["versions"][1]["notes"]["say"] != card["notes"]["say"]
    # The audit lists the desk beside the customer channels.
    report = consistency.consistency_report(settings)
    assert report["incidents"][0]["channels"]["agent"]["state"] == "current"


def test_agents_read_and_change_nothing(settings, agents):
    ann = actor(settings, "ann")
    with pytest.raises(NotAllowed, match="ann cannot draft: needs role admin or author"):
        statements.draft(settings, ann, agents, FIELDS)
    add_user(settings, "sam", ["social"])
    with pytest.raises(NotAllowed, match="sam cannot read agent desk"):
        desk.desk(settings, actor(settings, "sam"))


def test_open_incidents_come_first_one_without_notes_is_named_and_the_changed_notes_are_listed(settings, agents):
    """A caller asks about what is broken now: the open incident before one resolved since, though older;
    an incident with nothing approved yet is named (callers ask about it too); the notes that differ from
    the version before are listed, so an agent who read v1 rereads only those."""
    ann, alice = actor(settings, "ann"), actor(settings, "alice")
    publish_version(settings, agents)
    payments = statements.open_incident(settings, alice, "Payments slow", "minor", ["API"])["id"]
    publish_version(settings, payments)
    publish_version(settings, payments, StatementInput(status="resolved", resolution="Payments are quick again.",
                                                       body="We added capacity."))
    email = statements.open_incident(settings, alice, "Email delays", "minor", ["API"])["id"]
    statements.draft(settings, alice, email, FIELDS)  # a draft is not approved: nothing to say yet
    shown = desk.desk(settings, ann)
    assert [card["id"] for card in shown["incidents"]] == [agents, payments]
    assert [(i["id"], i["title"]) for i in shown["waiting"]] == [(email, "Email delays")]
    assert shown["signature"] == f"{agents}:1,{payments}:2,{email}:0"
    login, resolved = shown["incidents"]
    assert login["changed"] == []  # one version: nothing to compare
    assert {"summary", "say", "next_update"} <= set(resolved["changed"]) and "answers" not in resolved["changed"]


def test_the_desk_says_when_the_next_update_time_has_passed_with_no_newer_version(settings, agents):
    """The approved words keep "Next update by 05:10 UTC" after 05:10; an agent must not read it out as
    still to come."""
    ann = actor(settings, "ann")
    publish_version(settings, agents)
    (card,) = desk.desk(settings, ann)["incidents"]
    due = datetime.fromisoformat(card["next_update_at"])
    assert due.utcoffset() == timedelta(0) and not card["next_update_passed"]  # "30m": not yet
    (card,) = desk.desk(settings, ann, now=due + timedelta(seconds=1))["incidents"]
    assert card["next_update_passed"]


def fields(**changes) -> StatementInput:
    return StatementInput.model_validate({**FIELDS.model_dump(exclude_unset=True), **changes})


def test_a_version_translated_beside_one_that_is_not_is_compared_in_one_language(database_url):
    """Asked in Spanish, v2 (translated) is read in Spanish and v1 (not) in English: compared as read, every
    note would be marked changed. Compared in the statement's own language, only what changed is."""
    settings = make_settings(database_url, locales=["es"])
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    add_user(settings, "ann", ["agent"])
    incident = statements.open_incident(settings, actor(settings, "alice"), "Login failures", "major", ["Login"])["id"]
    publish_version(settings, incident)
    spanish = {"es": {"headline": "Algunos clientes no pueden iniciar sesión", "body": "Falla 1 de cada 5 inicios.",
                      "workaround": "Use la aplicación móvil."}}
    publish_version(settings, incident, fields(translations=spanish))
    card = desk.versions(settings, actor(settings, "ann"), incident, "es")
    assert [v["language"] for v in card["versions"]] == ["es", "en"]
    assert card["changed"] == [] and [v["changed"] for v in card["versions"]] == [[], []]
    spanish["es"]["workaround"] = "Use la web."
    publish_version(settings, incident, fields(translations=spanish, workaround="Use the web."))
    card = desk.versions(settings, actor(settings, "ann"), incident, "es")
    assert card["changed"] == ["say", "workaround"], card["changed"]  # v3 against v2, both in Spanish
