"""Real parts for delivery tests: `celery worker` processes on a real Redis, the official SDKs
talking HTTP to the fast fake provider, a real database. Nothing of ours is faked. The process
machinery (`Workers`, `wait_until`, `add_subscribers`) is `tests/harness.py`, shared with bench/."""

import threading
from contextlib import contextmanager

from sqlalchemy import func, select

from broadcaster.approvals import decisions
from broadcaster.config import Settings
from broadcaster.delivery import chunk, send_threads
from broadcaster.incidents import statements
from broadcaster.incidents.statements import StatementInput
from broadcaster.people import users
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery
from tests.conftest import actor, add_user
from tests.harness import ROOT, Workers, add_subscribers, wait_until

# What a publish writes beside the recipients' deliveries: eight live channels, of which the banner,
# status page, IVR, X (the tests' fake) and the agent desk go out, and Slack, Teams and Zendesk, with no
# workspace or helpdesk configured, are simulated (the log provider: never sent).
LIVE = 8
LIVE_SENT = 5
UNCONFIGURED = {"simulated": 3}

__all__ = ["ROOT", "Workers", "add_subscribers", "approved_statement", "as_env", "chunk_held_after",
           "provider_settings", "settled", "status_counts", "wait_until", "illegal_histories"]
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


def provider_settings(fake_url: str) -> dict:
    """Credentials set and every provider pointed at the fake: the official SDKs do the talking."""
    return {
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": "token", "twilio_from": "+15005550006",
        "twilio_api_base": fake_url, "sendgrid_api_key": "SG.test", "sendgrid_host": fake_url,
        "x_consumer_key": "ck", "x_consumer_secret": "cs", "x_access_token": "at", "x_access_token_secret": "ats",
        "x_api_base": fake_url, "twilio_rate": "100000/second", "sendgrid_rate": "100000/second",
        "x_rate": "100000/second",
        "public_url": "https://status-admin.example.test",  # every email carries its unsubscribe link
    }


def as_env(values: dict) -> dict[str, str]:
    return {f"BROADCASTER_{key.upper()}": str(value) for key, value in values.items() if value is not None}


def approved_statement(settings: Settings, headline: str = "Some customers cannot log in",
                       incident_id: int | None = None, translations: dict | None = None) -> int:
    """A statement ready to publish; with incident_id, the next version of that incident; with
    `translations` ({locale: {headline, body, workaround}}), in those languages too."""
    for name, role in (("alice", "author"), ("bob", "approver")):
        if name not in {u["name"] for u in users.list_users(settings)}:
            add_user(settings, name, [role])
    if incident_id is None:
        incident_id = statements.open_incident(settings, actor(settings, "alice"), "Login failures", "major",
                                               ["Login"])["id"]
    statement = statements.draft(settings, actor(settings, "alice"), incident_id, StatementInput(
        status="investigating", headline=headline, body="About 1 in 5 logins fail.",
        workaround="Use the mobile app", next_update="30m", translations=translations))
    statements.submit(settings, actor(settings, "alice"), statement["id"])
    decisions.approve(settings, actor(settings, "bob"), statement["id"])
    return statement["id"]


def status_counts(settings: Settings, statement_id: int | None = None) -> dict[str, int]:
    with transaction(settings.database_url) as s:
        query = select(Delivery.status, func.count()).group_by(Delivery.status)
        if statement_id is not None:
            query = query.where(Delivery.statement_id == statement_id)
        return dict(s.execute(query).all())


def settled(settings: Settings, statement_id: int) -> bool:
    counts = status_counts(settings, statement_id)
    return not any(counts.get(k, 0) for k in ("pending", "sending", "retry", "unknown"))


def illegal_histories(settings: Settings) -> dict[int, list[str]]:
    """Deliveries whose send log is not a walk `domain.delivery_status.MOVES` allows (none, if the
    engine moved every status through `delivery.records`)."""
    from broadcaster.domain.delivery_status import legal_history
    from broadcaster.store.models import DeliveryEvent

    with transaction(settings.database_url) as s:
        rows = s.execute(select(DeliveryEvent.delivery_id, DeliveryEvent.status).order_by(DeliveryEvent.id)).all()
    histories: dict[int, list[str]] = {}
    for delivery_id, status in rows:
        histories.setdefault(delivery_id, []).append(status)
    return {d: h for d, h in histories.items() if not legal_history(h)}


@contextmanager
def chunk_held_after(monkeypatch, settings: Settings, ids: list[int], batches: int):
    """Sends `ids` as one chunk in a thread (yielded) whose batches after the first `batches` wait until
    the with-block ends: the test sees the chunk mid-way however late a busy machine runs the thread."""
    released, real_send_batch, started = threading.Event(), send_threads.send_batch, []

    def send_batch(*args, **kwargs):
        started.append(1)
        if len(started) > batches:
            released.wait(60)
        return real_send_batch(*args, **kwargs)

    monkeypatch.setattr(send_threads, "send_batch", send_batch)
    sending = threading.Thread(target=chunk.send_chunk, args=(settings, ids))
    sending.start()
    try:
        yield sending
    finally:
        released.set()
        sending.join(60)
