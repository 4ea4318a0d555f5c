"""Refusals of callers who proved nothing (a sign-up over a limit, an unsigned provider callback, a
wrong approval or holding link) are audited, but throttled per client: the first few each hour in
full, then one summary row at the 10th, 100th, ... refusal, so a loop of anonymous requests cannot
grow the audit trail without bound or bury the real refusals."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from broadcaster.usecase import audit_unproven
from broadcaster.web.app import create_app
from broadcaster.web.public import create_public_app
from tests.conftest import make_settings


def audited(settings, action: str) -> list[tuple[str, dict]]:
    with transaction(settings.database_url) as s:
        return [tuple(r) for r in s.execute(select(AuditEvent.subject, AuditEvent.detail)
                                            .where(AuditEvent.action == action).order_by(AuditEvent.id))]


def test_the_first_refusals_per_client_are_written_then_one_summary_per_power_of_ten(settings):
    written = [audit_unproven(settings, "refused: something", f"thing:{i}", {"reason": "no"}, "203.0.113.9")
               for i in range(1, 101)]
    assert [i for i, w in enumerate(written, 1) if w] == [1, 2, 3, 4, 5, 10, 100]
    rows = audited(settings, "refused: something")
    assert [subject for subject, _ in rows[:5]] == [f"thing:{i}" for i in range(1, 6)]
    assert rows[5][0] == "client:203.0.113.9" and rows[5][1]["refusals"] == 10
    assert rows[6][1]["summary"].startswith("and 95 more refusals (refused: something) from 203.0.113.9")
    # another client's refusals are written in full: the flood buries nothing
    assert audit_unproven(settings, "refused: something", "thing:x", {"reason": "no"}, "198.51.100.7")


def test_sign_ups_refused_in_a_loop_write_a_bounded_number_of_rows(database_url):
    settings = make_settings(database_url, signup_rate="1/hour", secret_key="s" * 40,
                             signup_rate_storage=f"memory://?{uuid.uuid4().hex}")
    with TestClient(create_public_app(settings)) as client:
        answers = [client.post("/subscribe", data={"email": "flood@example.com"}).status_code for _ in range(31)]
    assert answers == [200] + [429] * 30
    rows = audited(settings, "refused: subscribe")
    assert len(rows) == 5 + 1 and all(d["client"] == "testclient" for _, d in rows)
    assert rows[-1][1]["refusals"] == 10 and rows[0][1]["reason"].startswith("too many sign-ups for this address")


@pytest.mark.parametrize(("method", "path", "action"), [
    ("post", "/webhooks/twilio/status", "refused: provider callback"),
    ("get", "/approve/1?t=x.y", "refused: open approval link"),
    ("get", "/hold/1?t=x.y", "refused: open holding link"),
])
def test_unauthenticated_refusals_on_the_full_app_are_throttled_per_client(settings, method, path, action):
    with TestClient(create_app(settings)) as client:
        statuses = {getattr(client, method)(path).status_code for _ in range(12)}
    assert statuses <= {403, 404}
    rows = audited(settings, action)
    assert len(rows) == 6 and rows[0][1]["client"] == "testclient" and rows[-1][1]["refusals"] == 10
