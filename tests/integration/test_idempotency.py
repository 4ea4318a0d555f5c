"""`Idempotency-Key` on the API's writes: a retry with the same key and body gets the first answer
without acting again; the same key with another body is refused; two concurrent retries of a
publish publish once and answer the same; keys are kept per caller; the dashboard's forms send one."""

import threading

from sqlalchemy import func, select

from broadcaster.store.db import transaction
from broadcaster.store.models import AuditEvent
from tests import loopback
from tests.integration.api_fixtures import install
from tests.integration.api_server import serving


def audited(settings, action: str) -> int:
    with transaction(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_a_retried_open_is_answered_again_without_opening_twice(settings):
    site = install(settings, dispatch=lambda settings_, ids: None)
    headers = {**site.as_role("author"), "Idempotency-Key": "open-1"}
    body = {"title": "Payments slow", "impact": "minor"}
    first = site.client.post("/api/v1/incidents", json=body, headers=headers)
    again = site.client.post("/api/v1/incidents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert audited(settings, "open incident") == 2  # the seed's incident and this one, not a third
    other = site.client.post("/api/v1/incidents", json={**body, "title": "Payments down"}, headers=headers)
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    assert "was used with another request" in other.json()["detail"]
    # Another caller's same key is theirs: it acts.
    theirs = site.client.post("/api/v1/incidents", json=body, headers={**site.as_role("admin"),
                                                                        "Idempotency-Key": "open-1"})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    bad = site.client.post("/api/v1/incidents", json=body, headers={**site.as_role("author"),
                                                                     "Idempotency-Key": "with space"})
    assert bad.status_code == 422 and "printable ASCII" in bad.json()["detail"]


def test_two_concurrent_retries_of_a_publish_publish_once_and_answer_the_same(settings):
    site = install(settings, dispatch=lambda settings_, ids: None)
    approved = site.client.post(f"/api/v1/statements/{site.statement_id}/approve",
                                json={"content_hash": site.content_hash}, headers=site.as_role("approver"))
    assert approved.status_code == 200, approved.text
    answers = []
    with serving(settings, dispatch=lambda settings_, ids: None) as url:
        barrier = threading.Barrier(2)

        def publish():
            barrier.wait()
            answers.append(loopback.post(f"{url}/api/v1/statements/{site.statement_id}/publish", timeout=30,
                                         headers={**site.as_role("admin"), "Idempotency-Key": "publish-7"}))
        threads = [threading.Thread(target=publish) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    assert audited(settings, "publish") == 1


def test_a_double_click_on_a_dashboard_form_acts_once(settings):
    import re

    from broadcaster.people import auth

    site = install(settings, dispatch=lambda settings_, ids: None)
    auth.set_password(settings, "alice", "a long enough password")
    form = site.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    site.client.post("/login", data={"name": "alice", "password": "a long enough password", "csrf_token": token,
                                     "next": "/dashboard"}, follow_redirects=False)
    editor = site.client.get(f"/dashboard/incidents/{site.incident_id}/new").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', editor).group(1)
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', editor).group(1)
    fields = {"csrf_token": csrf, "idempotency_key": key, "incident_id": site.incident_id, "then": "save",
              "status": "identified", "impact": "major", "components": "Login", "headline": "We found the cause",
              "body": "A bad deploy.", "workaround": "", "next_update": "1h"}
    before = audited(settings, "draft")
    first = site.client.post("/dashboard/statements", data=fields, follow_redirects=False)
    second = site.client.post("/dashboard/statements", data=fields, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"] and second.headers["Idempotent-Replayed"] == "true"
    assert audited(settings, "draft") == before + 1
    # Back, another headline, the same form's key: a person's new request, which acts.
    changed = site.client.post("/dashboard/statements", data={**fields, "headline": "The cause is fixed"},
                               follow_redirects=False)
    assert changed.status_code == 303 and audited(settings, "draft") == before + 2
