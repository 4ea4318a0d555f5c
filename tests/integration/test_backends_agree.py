"""SQLite (the embedded default) and PostgreSQL (production) must give the same results."""

from datetime import UTC, datetime, timedelta

from tests.conftest import actor
from broadcaster import audit as auditing, people, publish as publish_uc, statements
from broadcaster.delivery.chunk import send_now
from broadcaster.statements import StatementInput
from tests.conftest import fresh_database_url, make_settings

# One promise for both backends, always ahead of the real clock that publish checks it against.
NEXT_UPDATE = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0).isoformat()


def scenario(settings) -> dict:
    people.add_user(settings, "alice", ["author"])
    people.add_user(settings, "bob", ["approver"])
    people.add_user(settings, "carol", ["approver"])
    people.add_subscriber(settings, email="ünïcode@example.com", phone="+447911123456")
    incident = statements.open_incident(settings, actor(settings, "alice"), "Payments failing", "critical", ["Payments"])
    fields = StatementInput(status="identified", headline="Card payments fail 🔥", body="A <b>bad</b> deploy.",
                            workaround="Pay by bank transfer", next_update=NEXT_UPDATE)
    statement = statements.draft(settings, actor(settings, "alice"), incident["id"], fields)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    statements.approve(settings, actor(settings, "bob"), statement["id"])
    statements.approve(settings, actor(settings, "carol"), statement["id"], comment="ok")
    publish_uc.publish(settings, actor(settings, "alice"), statement["id"], dispatch=send_now)
    log = [{k: v for k, v in e.items() if k != "at"} for e in auditing.send_log(settings)]
    return {"preview": statements.preview(settings, statement["id"]), "log": log,
            "audit": auditing.consistency_report(settings), "statement": statements.get_statement(settings, statement["id"])}


def test_sqlite_and_postgresql_give_the_same_results(request, tmp_path):
    results = {}
    for backend in ("sqlite", "postgresql"):
        results[backend] = scenario(make_settings(fresh_database_url(backend, request, tmp_path)))
        for approval in results[backend]["statement"]["approvals"]:
            approval.pop("at")
    assert results["sqlite"]["preview"]["content_hash"] == results["postgresql"]["preview"]["content_hash"]
    assert results["sqlite"] == results["postgresql"]
    assert len(results["sqlite"]["log"]) == 3 * 6  # pending, sending, simulated for each of 6 targets
