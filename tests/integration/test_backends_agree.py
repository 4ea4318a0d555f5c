"""SQLite (the embedded default) and PostgreSQL (production) must give the same results."""

from datetime import UTC, datetime

from broadcaster import publishing
from broadcaster.publishing import StatementInput
from tests.conftest import fresh_database_url, make_settings

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def scenario(settings) -> dict:
    publishing.add_user(settings, "alice", ["author"])
    publishing.add_user(settings, "bob", ["approver"])
    publishing.add_user(settings, "carol", ["approver"])
    publishing.add_subscriber(settings, email="ünïcode@example.com", phone="+447911123456")
    incident = publishing.open_incident(settings, "alice", "Payments failing", "critical", ["Payments"])
    fields = StatementInput(status="identified", headline="Card payments fail 🔥", body="A <b>bad</b> deploy.",
                            workaround="Pay by bank transfer", next_update="2026-11-23T15:00:00+00:00")
    statement = publishing.draft(settings, "alice", incident["id"], fields, now=NOW)
    publishing.submit(settings, "alice", statement["id"])
    publishing.approve(settings, "bob", statement["id"])
    publishing.approve(settings, "carol", statement["id"], comment="ok")
    publishing.publish(settings, "alice", statement["id"])
    log = [{k: v for k, v in e.items() if k != "at"} for e in publishing.send_log(settings)]
    return {"preview": publishing.preview(settings, statement["id"]), "log": log,
            "audit": publishing.audit(settings), "statement": publishing.get_statement(settings, statement["id"])}


def test_sqlite_and_postgresql_give_the_same_results(request, tmp_path):
    results = {}
    for backend in ("sqlite", "postgresql"):
        results[backend] = scenario(make_settings(fresh_database_url(backend, request, tmp_path)))
        for approval in results[backend]["statement"]["approvals"]:
            approval.pop("at")
    assert results["sqlite"]["preview"]["content_hash"] == results["postgresql"]["preview"]["content_hash"]
    assert results["sqlite"] == results["postgresql"]
    assert len(results["sqlite"]["log"]) == 3 * 6  # pending, sending, simulated for each of 6 targets
