"""SQLite (the embedded default) and PostgreSQL (production) must give the same results."""

from datetime import UTC, datetime, timedelta

from broadcaster.approvals import decisions
from broadcaster.delivery import sendlog
from broadcaster.delivery.chunk import send_now
from broadcaster.incidents import consistency, publishing, statements
from broadcaster.incidents.statements import StatementInput
from tests.conftest import actor, add_subscriber, add_user, fresh_database_url, make_settings


def scenario(settings, now: datetime) -> dict:
    add_user(settings, "alice", ["author"])
    add_user(settings, "bob", ["approver"])
    add_user(settings, "carol", ["approver"])
    add_subscriber(settings, email="ünïcode@example.com", phone="+447911123456")
    incident = statements.open_incident(settings, actor(settings, "alice"), "Payments failing", "critical",
                                        ["Payments"])
    fields = StatementInput(status="identified", headline="Card payments fail 🔥", body="A <b>bad</b> deploy.",
                            workaround="Pay by bank transfer", next_update=(now + timedelta(hours=1)).isoformat())
    statement = statements.draft(settings, actor(settings, "alice"), incident["id"], fields, now=now)
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    decisions.approve(settings, actor(settings, "bob"), statement["id"])
    decisions.approve(settings, actor(settings, "carol"), statement["id"], comment="ok")
    publishing.publish(settings, actor(settings, "alice"), statement["id"], dispatch=send_now)
    # Sends finish in any order (each provider batch is recorded as it finishes): compare per delivery.
    log = sorted(({k: v for k, v in e.items() if k not in ("at", "id")} for e in sendlog.send_log(settings)),
                 key=lambda e: (e["delivery_id"], e["attempt"], e["status"]))
    return {"preview": statements.preview(settings, statement["id"]), "log": log,
            "audit": consistency.consistency_report(settings),
            "statement": statements.get_statement(settings, statement["id"])}


def test_sqlite_and_postgresql_give_the_same_results(request, tmp_path, monkeypatch):
    # One moment for both runs' words, read when the test runs (not at import: publish refuses a next
    # update already past, and a "tomorrow" written before a midnight and published after it). An X post
    # says the minute it was written, so a minute's turn between the two submits gave two content hashes.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    monkeypatch.setattr(statements, "utcnow", lambda: now)  # the renditions' moment at submit
    monkeypatch.setattr(publishing, "utcnow", lambda: now)  # the next update's checks at publish
    results = {}
    for backend in ("sqlite", "postgresql"):
        results[backend] = scenario(make_settings(fresh_database_url(backend, request, tmp_path)), now)
        for approval in results[backend]["statement"]["approvals"]:
            approval.pop("at")
    assert results["sqlite"]["preview"]["content_hash"] == results["postgresql"]["preview"]["content_hash"]
    assert results["sqlite"] == results["postgresql"]
    assert len(results["sqlite"]["log"]) == 3 * 10  # pending, sending, simulated for each of 10 targets
