"""The use cases end to end on a real database: SQLite and PostgreSQL alike."""

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from broadcaster.approvals import decisions
from broadcaster.audience import unsubscribe
from broadcaster.delivery import sendlog
from broadcaster.delivery.chunk import send_now
from broadcaster.domain.errors import IllegalTransition, InvalidInput, LimitExceeded, NotAllowed, NotFound
from broadcaster.incidents import consistency, publishing, statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.store.db import engine_for, transaction
from broadcaster.store.models import Delivery, DeliveryEvent, Rendition
from tests.conftest import actor, add_subscriber, add_user

FIELDS = StatementInput(status="investigating", headline="Some customers cannot log in",
                        body="About 1 in 5 logins fail.", workaround="Use the mobile app.", next_update="30m")


def approved_statement(settings, incident_id, approvers=("bob",), fields=FIELDS) -> int:
    statement = statements.draft(settings, actor(settings, "alice"), incident_id, fields)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    for approver in approvers:
        decisions.approve(settings, actor(settings, approver), statement["id"])
    return statement["id"]


def test_draft_submit_approve_publish_records_a_delivery_per_target(settings, world):
    sid = approved_statement(settings, world)
    result = publishing.publish(settings, actor(settings, "alice"), sid, dispatch=send_now)
    # banner, status page, x, ivr at once; email and sms fanned out: c1 only, c2 wants Billing incidents.
    assert result["state"] == "published"
    assert result["deliveries"] == 8 and sorted(result["fan_out"]) == ["email", "sms", "webhook"]
    final = [e for e in sendlog.send_log(settings, statement_id=sid) if e["status"] in ("simulated", "sent")]
    assert sorted((e["channel"], e["target"], e["provider"], e["status"]) for e in final) == [
        ("agent", "agent", "builtin", "sent"),
        ("banner", "banner", "builtin", "sent"), ("email", "c1@example.com", "log", "simulated"),
        ("ivr", "ivr", "builtin", "sent"), ("slack", "slack", "log", "simulated"),
        ("sms", "+14155550123", "log", "simulated"), ("status_page", "status_page", "builtin", "sent"),
        ("teams", "teams", "log", "simulated"), ("x", "x", "log", "simulated"),
        ("zendesk", "zendesk", "log", "simulated")]
    assert all(e["attempt"] == 1 for e in final)


def test_the_log_provider_records_the_exact_approved_words(settings, world):
    sid = approved_statement(settings, world)
    preview = statements.preview(settings, sid)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=send_now)
    (sms,) = sendlog.send_log(settings, statement_id=sid, channel="sms", status="simulated")
    assert preview["channels"]["sms"]["text"] in sms["detail"]
    assert '"to":"+14155550123"' in sms["detail"]


def test_self_approval_is_refused(settings, world):
    add_user(settings, "dana", ["author", "approver"])
    statement = statements.draft(settings, actor(settings, "dana"), world, FIELDS)
    statements.submit(settings, actor(settings, "dana"), statement["id"])
    with pytest.raises(NotAllowed, match="dana wrote or edited this statement and cannot approve it"):
        decisions.approve(settings, actor(settings, "dana"), statement["id"])


def test_author_without_approver_role_cannot_approve(settings, world):
    add_user(settings, "erin", ["author"])
    statement = statements.draft(settings, actor(settings, "alice"), world, FIELDS)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    with pytest.raises(NotAllowed, match="erin cannot approve: needs role approver"):
        decisions.approve(settings, actor(settings, "erin"), statement["id"])


def test_approving_a_draft_is_an_illegal_transition(settings, world):
    statement = statements.draft(settings, actor(settings, "alice"), world, FIELDS)
    with pytest.raises(IllegalTransition, match="cannot approve statement .* it is still a draft"):
        decisions.approve(settings, actor(settings, "bob"), statement["id"])


def test_edit_after_approval_voids_it(settings, world):
    sid = approved_statement(settings, world)
    new = statements.edit(settings, actor(settings, "alice"), sid, StatementInput(body="About 1 in 4 logins fail."))
    assert new["id"] != sid and new["version"] == 2 and new["state"] == "draft"
    assert statements.get_statement(settings, sid)["state"] == "withdrawn"
    with pytest.raises(IllegalTransition, match="it was withdrawn"):
        publishing.publish(settings, actor(settings, "alice"), sid, dispatch=send_now)
    with pytest.raises(IllegalTransition, match="it is still a draft"):
        publishing.publish(settings, actor(settings, "alice"), new["id"], dispatch=send_now)


def test_edit_of_a_draft_changes_it_in_place(settings, world):
    statement = statements.draft(settings, actor(settings, "alice"), world, FIELDS)
    edited = statements.edit(settings, actor(settings, "alice"), statement["id"],
                             StatementInput(headline="Logins fail"))
    assert (edited["id"], edited["version"], edited["headline"]) == (statement["id"], 1, "Logins fail")


def test_approval_of_a_previewed_hash_that_changed_is_refused(settings, world):
    statement = statements.draft(settings, actor(settings, "alice"), world, FIELDS)
    seen = statements.preview(settings, statement["id"])["content_hash"]
    statements.edit(settings, actor(settings, "alice"), statement["id"], StatementInput(body="Worse than we thought."))
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    with pytest.raises(NotAllowed, match=f"approval is for content {seen[:12]}"):
        decisions.approve(settings, actor(settings, "bob"), statement["id"], seen_hash=seen)
    decisions.approve(settings, actor(settings, "bob"), statement["id"],
                       seen_hash=statements.preview(settings, statement["id"])["content_hash"][:12])


def test_critical_incident_needs_two_approvals(settings, world):
    incident = statements.open_incident(settings, actor(settings, "alice"), "Everything is down", "critical")
    statement = statements.draft(settings, actor(settings, "alice"), incident["id"], FIELDS)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    first = decisions.approve(settings, actor(settings, "bob"), statement["id"])
    assert (first["state"], first["approvals"], first["approvals_needed"]) == ("pending_approval", 1, 2)
    with pytest.raises(IllegalTransition, match="it is waiting for approval"):
        publishing.publish(settings, actor(settings, "alice"), statement["id"], dispatch=send_now)
    with pytest.raises(NotAllowed, match="already approved"):
        decisions.approve(settings, actor(settings, "bob"), statement["id"])
    assert decisions.approve(settings, actor(settings, "carol"), statement["id"])["state"] == "approved"
    published = publishing.publish(settings, actor(settings, "alice"), statement["id"], dispatch=send_now)
    assert published["state"] == "published"


def test_rejection_needs_a_reason_and_sends_the_statement_back(settings, world):
    statement = statements.draft(settings, actor(settings, "alice"), world, FIELDS)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    with pytest.raises(InvalidInput, match="reason"):
        decisions.reject(settings, actor(settings, "bob"), statement["id"], " ")
    assert decisions.reject(settings, actor(settings, "bob"), statement["id"], "Say which app")["state"] == "rejected"
    again = statements.edit(settings, actor(settings, "alice"), statement["id"],
                            StatementInput(workaround="Use the iOS app."))
    assert again["version"] == 2 and again["state"] == "draft"


def test_statement_breaking_a_limit_cannot_be_submitted_and_says_by_how_much(settings, world):
    statement = statements.draft(settings, actor(settings, "alice"), world,
                                 FIELDS.model_copy(update={"headline": "H" * 300}))
    with pytest.raises(LimitExceeded) as excinfo:
        statements.submit(settings, actor(settings, "alice"), statement["id"])
    message = str(excinfo.value)
    assert "x: weighted length is" in message and "limit 280, over by" in message
    assert "sms: length is" in message
    assert statements.get_statement(settings, statement["id"])["state"] == "draft"


def test_tampered_rendition_is_refused_at_approval_and_publish(settings, world):
    statement = statements.draft(settings, actor(settings, "alice"), world, FIELDS)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    decisions.approve(settings, actor(settings, "bob"), statement["id"])
    with transaction(settings.database_url) as s:
        rendition = s.scalar(select(Rendition).where(Rendition.statement_id == statement["id"],
                                                     Rendition.channel == "sms"))
        rendition.fields = {"text": "Example Co: all fine, ignore the outage"}
    with pytest.raises(NotAllowed, match="was changed in the database after it was submitted"):
        publishing.publish(settings, actor(settings, "alice"), statement["id"], dispatch=send_now)


def test_rendition_tampered_after_publish_is_refused_at_send_time(settings, world):
    sid = approved_statement(settings, world)
    held = []
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=lambda _s, ids: held.extend(ids))
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(update(Rendition).where(Rendition.statement_id == sid, Rendition.channel == "sms")
                           .values(fields={"text": "forged"}))
    send_now(settings, held)
    statuses = {e["channel"]: e for e in sendlog.send_log(settings, statement_id=sid)
                if e["status"] in ("failed", "simulated", "sent")}
    assert statuses["sms"]["status"] == "failed"
    assert "no longer matches the approval" in statuses["sms"]["detail"]
    assert all(e["status"] == "failed" for e in statuses.values())  # the statement hash covers every channel


def test_a_newer_version_cancels_the_unsent_deliveries_of_the_older(settings, world):
    v1 = approved_statement(settings, world)
    publishing.publish(settings, actor(settings, "alice"), v1, dispatch=lambda *_: None)  # the broker lost them
    v2 = approved_statement(settings, world, fields=StatementInput(status="identified"))
    result = publishing.publish(settings, actor(settings, "alice"), v2, dispatch=send_now)
    assert result["cancelled"] == 10  # banner, status page, ivr, x, agent desk, slack, teams, zendesk, email, sms
    assert statements.get_statement(settings, v1)["state"] == "superseded"
    with transaction(settings.database_url) as s:
        v1_statuses = set(s.scalars(select(Delivery.status).where(Delivery.statement_id == v1)))
    assert v1_statuses == {"cancelled"}
    assert sendlog.send_log(settings, statement_id=v1, status="simulated") == []
    assert sendlog.send_log(settings, statement_id=v1, status="sent") == []


def test_an_update_starts_from_the_latest_version(settings, world):
    approved_statement(settings, world)
    update_ = statements.draft(settings, actor(settings, "alice"), world, StatementInput(status="monitoring"))
    assert (update_["version"], update_["headline"], update_["status"]) == (2, FIELDS.headline, "monitoring")


def test_an_approved_older_version_is_void_once_a_newer_one_is_drafted(settings, world):
    v1 = approved_statement(settings, world)
    v2 = approved_statement(settings, world, fields=StatementInput(status="identified"))
    publishing.publish(settings, actor(settings, "alice"), v2, dispatch=send_now)
    with pytest.raises(IllegalTransition, match=r"cannot publish statement \d+ \(incident \d+ v1\): it was withdrawn"):
        publishing.publish(settings, actor(settings, "alice"), v1, dispatch=send_now)


def test_audit_flags_a_channel_that_is_behind(settings, world):
    settings = settings.model_copy(update={"sms_notify_on": "all"})  # v2 goes to SMS too
    v1 = approved_statement(settings, world)
    publishing.publish(settings, actor(settings, "alice"), v1, dispatch=send_now)
    assert consistency.consistency_report(settings)["drift"] is False
    v2 = approved_statement(settings, world, fields=StatementInput(status="identified"))
    held = []
    publishing.publish(settings, actor(settings, "alice"), v2, dispatch=lambda _s, ids: held.extend(ids))
    with transaction(settings.database_url) as s:
        banner_id = s.scalar(select(Delivery.id).where(Delivery.statement_id == v2, Delivery.channel == "banner"))
    send_now(settings, [i for i in held if i != banner_id])
    report = consistency.consistency_report(settings)
    assert report["drift"] is True
    channels = report["incidents"][0]["channels"]
    assert channels["banner"] == {"shows_version": 1, "state": "behind", "outstanding": 1, "failed": 0}
    assert channels["sms"]["state"] == "current" and channels["sms"]["shows_version"] == 2
    send_now(settings, [banner_id])
    assert consistency.consistency_report(settings)["drift"] is False



def test_a_delivery_cancelled_by_an_opt_out_is_not_drift(settings, world):

    add_subscriber(settings, email="c3@example.com")
    held: list[int] = []
    publishing.publish(settings, actor(settings, "alice"), approved_statement(settings, world),
                       dispatch=lambda _s, ids: held.extend(ids))
    with transaction(settings.database_url) as s:
        email = s.scalar(select(Delivery.id).where(Delivery.id.in_(held), Delivery.target == "c1@example.com"))
    unsubscribe.unsubscribe(settings, email, unsubscribe.token_of_delivery(settings, email))  # before it went out
    send_now(settings, held)

    report = consistency.consistency_report(settings)

    channels = report["incidents"][0]["channels"]
    assert channels["email"]["state"] == "current" and channels["email"]["outstanding"] == 0
    assert report["drift"] is False


def test_the_send_log_is_append_only_in_the_database_itself(settings, world):
    sid = approved_statement(settings, world)
    publishing.publish(settings, actor(settings, "alice"), sid, dispatch=send_now)
    for statement in ("UPDATE delivery_events SET status = 'sent'", "DELETE FROM delivery_events",
                      "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine_for(settings.database_url).begin() as connection:
                connection.execute(text(statement))
    with transaction(settings.database_url) as s:
        assert s.scalar(select(DeliveryEvent.id).limit(1)) is not None


def test_bad_contact_details_are_refused_with_the_field_named(settings):
    with pytest.raises(InvalidInput, match="phone: '\\+1 555' is not a valid phone number"):
        add_user(settings, "x", ["author"], phone="+1 555")
    with pytest.raises(InvalidInput, match="email: 'not-an-email' is not a valid email address"):
        add_subscriber(settings, email="not-an-email")
    with pytest.raises(InvalidInput, match="role: 'boss' is not one of author, approver, admin"):
        add_user(settings, "y", ["boss"])


def test_unknown_user_and_statement_are_named(settings, world):
    with pytest.raises(NotFound, match="user 'mallory' does not exist"):
        statements.draft(settings, actor(settings, "mallory"), world, FIELDS)
    with pytest.raises(NotFound, match="statement 999 does not exist"):
        statements.preview(settings, 999)
    with pytest.raises(NotFound, match="incident 42 does not exist"):
        statements.draft(settings, actor(settings, "alice"), 42, FIELDS)


def test_statement_input_from_a_file_names_the_bad_field():
    with pytest.raises(InvalidInput, match="statement.yaml: headlin: Extra inputs are not permitted"):
        StatementInput.parse({"headlin": "typo"}, "statement.yaml")


def test_audit_does_not_call_a_channel_behind_when_its_rule_skipped_the_update(settings, world):
    v1 = approved_statement(settings, world)
    publishing.publish(settings, actor(settings, "alice"), v1, dispatch=send_now)
    v2 = approved_statement(settings, world, fields=StatementInput(status="identified"))
    publishing.publish(settings, actor(settings, "alice"), v2, dispatch=send_now)
    report = consistency.consistency_report(settings)
    assert report["drift"] is False  # SMS only on open and resolve: v1's text is all SMS should say
    assert "sms" not in report["incidents"][0]["channels"]
