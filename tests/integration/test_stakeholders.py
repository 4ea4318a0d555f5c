"""Stakeholder audiences: named internal lists managed from the use cases, the API and the CLI; each
published version writes one delivery per member's address with the stakeholder rendition (internal
fields the author filled, approved with the same hash), sent through the engine, in the send log and
the consistency audit; an audience that hears only the opening and the resolution skips the updates."""

import pytest

from broadcaster.delivery import sendlog
from broadcaster.domain.errors import InvalidInput, NotAllowed, NotFound
from broadcaster.incidents import consistency, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.stakeholders import audiences as service
from tests.conftest import actor, add_user
from tests.integration.api_fixtures import install
from tests.integration.test_agent_desk import publish_version

INTERNAL = {"impact": "A third of web sign-ins fail.", "customers_affected": "About 12,000",
            "owner": "Dana Reyes", "eta": "15:30, not said publicly"}
FIELDS = StatementInput(status="investigating", headline="Some customers cannot log in",
                        body="About 1 in 5 logins fail.", next_update="30m", internal_notes=INTERNAL)


@pytest.fixture
def leadership(settings, world):
    alice = actor(settings, "alice")
    service.create_audience(settings, alice, "leadership", "The exec team")
    service.add_member(settings, alice, "leadership", "Chris CEO", email="ceo@example.com", phone="+14155550177")
    service.add_member(settings, alice, "leadership", "Pat CFO", email="cfo@example.com")
    service.create_audience(settings, alice, "regulator", sends_on="open_and_resolve")
    service.add_member(settings, alice, "regulator", "Desk officer", email="desk@regulator.example")
    return world


def test_every_version_reaches_each_address_once_with_the_stakeholder_rendition(settings, leadership):
    first = publish_version(settings, leadership, FIELDS)
    preview = statements.preview(settings, first["id"])
    words = preview["channels"]["stakeholder"]
    assert "Internal impact: A third of web sign-ins fail." in words["body_text"]
    assert "ETA (internal, not said publicly): 15:30, not said publicly" in words["body_text"]
    assert ", internal: Investigating: Some customers cannot log in. Owner: Dana Reyes." in words["sms"]
    sent = sendlog.send_log(settings, statement_id=first["id"], status="simulated")
    got = sorted((e["channel"], e["target"]) for e in sent if e["channel"].startswith("stakeholder"))
    assert got == [("stakeholder_email", "ceo@example.com"), ("stakeholder_email", "cfo@example.com"),
                   ("stakeholder_email", "desk@regulator.example"), ("stakeholder_sms", "+14155550177")]
    email = next(e for e in sent if e["target"] == "ceo@example.com")
    assert "Internal impact" in email["detail"]  # the log provider records the words that would go
    # An update: leadership hears it, the regulator (opening and resolution only) does not.
    second = publish_version(settings, leadership, StatementInput(status="identified", body="We found the cause."))
    later = sendlog.send_log(settings, statement_id=second["id"], status="simulated")
    assert sorted(e["target"] for e in later if e["channel"] == "stakeholder_email") == [
        "ceo@example.com", "cfo@example.com"]
    report = consistency.consistency_report(settings)["incidents"][0]["channels"]
    assert report["stakeholder_email"]["state"] == "current" and report["stakeholder_sms"]["state"] == "current"
    assert "stakeholder" not in report  # the rendition itself goes nowhere: its two channels do


def test_the_internal_fields_are_covered_by_the_hash(settings, leadership):
    draft = statements.draft(settings, actor(settings, "alice"), leadership, FIELDS)
    before = statements.preview(settings, draft["id"])["content_hash"]
    statements.edit(settings, actor(settings, "alice"), draft["id"],
                    StatementInput(internal_notes={**INTERNAL, "eta": "16:00"}))
    assert statements.preview(settings, draft["id"])["content_hash"] != before


def test_bad_lists_are_refused_and_change_nothing(settings, leadership):
    alice = actor(settings, "alice")
    with pytest.raises(InvalidInput, match="give an email address, a phone number, or both"):
        service.add_member(settings, alice, "leadership", "Nobody")
    with pytest.raises(InvalidInput, match="phone"):
        service.add_member(settings, alice, "leadership", "Typo", phone="12")
    with pytest.raises(InvalidInput, match="has a member named 'Pat CFO' already"):
        service.add_member(settings, alice, "leadership", "Pat CFO", email="other@example.com")
    with pytest.raises(InvalidInput, match="named 'leadership' exists already"):
        service.create_audience(settings, alice, "leadership")
    with pytest.raises(InvalidInput, match="sends_on: 'weekly' is not one of every, open_and_resolve"):
        service.create_audience(settings, alice, "board", sends_on="weekly")
    with pytest.raises(NotFound, match="no stakeholder audience 'board'"):
        service.add_member(settings, alice, "board", "X", email="x@example.com")
    add_user(settings, "ann", ["agent"])
    with pytest.raises(NotAllowed, match="ann cannot manage stakeholders"):
        service.create_audience(settings, actor(settings, "ann"), "board")
    assert [len(a["members"]) for a in service.list_audiences(settings)] == [2, 1]


def test_the_api_answers_409_for_a_name_taken_and_keeps_the_first(settings):
    site = install(settings)
    author = site.as_role("author")
    made = site.client.post("/api/v1/stakeholders", json={"name": "board"}, headers=author)
    assert made.status_code == 201, made.text
    taken = site.client.post("/api/v1/stakeholders", json={"name": "board", "description": "again"}, headers=author)
    assert taken.status_code == 409 and "exists already" in taken.json()["detail"], taken.text
    pat = {"name": "Pat", "email": "pat@example.com"}
    assert site.client.post("/api/v1/stakeholders/board/members", json=pat, headers=author).status_code == 201
    twice = site.client.post("/api/v1/stakeholders/board/members", json=pat | {"email": "p@example.com"},
                             headers=author)
    assert twice.status_code == 409 and "has a member named 'Pat' already" in twice.json()["detail"], twice.text
    kept = site.client.get("/api/v1/stakeholders/board", headers=author).json()
    assert kept["description"] == "" and [m["email"] for m in kept["members"]] == ["pat@example.com"]
