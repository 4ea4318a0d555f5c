"""The sweep (beat's periodic job) and reconciliation; an operator's resend.

The broker is only the wake-up call: whatever it lost is found here, in the database.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import channels
from ..channels import Reconcilable, Target, TransportError, transport_for
from ..config import Settings
from ..store.db import transaction
from ..store.models import Delivery, DeliveryEvent, Statement, utcnow
from .chunk import Enqueue
from .records import Outcome, event_for, record
from .status import UNSENT

logger = logging.getLogger("broadcaster.sweep")


def sweep(settings: Settings, enqueue: Enqueue) -> dict[str, int]:
    """Beat's periodic job: expired leases → unknown, reconcile unknowns, re-enqueue what is due.
    The broker is only the wake-up call: whatever it lost is found here, in the database."""
    expired = expire_leases(settings)
    reconciled = reconcile(settings)
    due = due_deliveries(settings)
    requeued = enqueue(settings, due) if due else 0
    # Left: pending rows behind a backlog (most likely in it), or a broker that is down.
    return {"expired": expired, "reconciled": reconciled, "requeued": requeued, "left for later": len(due) - requeued}


def expire_leases(settings: Settings) -> int:
    now = utcnow()
    with transaction(settings.database_url) as s:
        rows = s.scalars(select(Delivery).where(Delivery.status == "sending", Delivery.lease_until < now)
                         .with_for_update(skip_locked=True)).all()
        for delivery in rows:
            delivery.status = "unknown"
            s.add(event_for(delivery, "unknown", "lease expired: the worker died during the provider call"))
        return len(rows)


def reconcile(settings: Settings) -> int:
    """Decide unknown deliveries before any resend: sending one SMS twice is worse than late.
    Idempotent surfaces are simply retried; Twilio is asked whether the message exists; the rest
    wait for an operator (`broadcaster retry --unknown`)."""
    with transaction(settings.database_url) as s:
        unknown = s.scalars(select(Delivery).where(Delivery.status == "unknown")
                            .options(selectinload(Delivery.statement).selectinload(Statement.renditions))).all()
        first_claims = dict(s.execute(
            select(DeliveryEvent.delivery_id, func.min(DeliveryEvent.created_at))
            .where(DeliveryEvent.delivery_id.in_([d.id for d in unknown]), DeliveryEvent.status == "sending")
            .group_by(DeliveryEvent.delivery_id)).all()) if unknown else {}
    outcomes = []
    for delivery in unknown:
        transport = transport_for(delivery.channel, settings)
        if channels.channel(delivery.channel).idempotent:
            outcomes.append(Outcome(delivery, "retry", detail="resending: this surface is idempotent"))
        elif isinstance(transport, Reconcilable):
            outcome = _ask_provider(transport, delivery, first_claims.get(delivery.id) or delivery.created_at)
            if outcome:
                outcomes.append(outcome)
    record(settings, outcomes, claimed_as="unknown")
    return len(outcomes)


def _ask_provider(transport, delivery: Delivery, first_claimed_at: datetime) -> Outcome | None:
    """Has the provider got this message since we first tried? The margin covers clock skew
    between us and the provider; the body must match exactly."""
    fields = next(r.fields for r in delivery.statement.renditions if r.channel == delivery.channel)
    since = (first_claimed_at - timedelta(seconds=60)).isoformat()
    try:
        sid = transport.find_sent(fields, Target(delivery.id, delivery.target), since)
    except TransportError as exc:
        logger.warning("cannot reconcile delivery %s yet: %s", delivery.id, exc)
        return None
    if sid:
        return Outcome(delivery, "sent", provider_message_id=sid, detail="reconciled: the provider has it")
    return Outcome(delivery, "retry", detail="reconciled: the provider never got it; resending")


def due_deliveries(settings: Settings, limit: int = 100_000) -> list[int]:
    """Pending/retry rows that are due and were not touched in the last sweep interval
    (fresh ones are already on the broker)."""
    now = utcnow()
    quiet_since = now - timedelta(seconds=settings.sweep_interval_seconds)
    with transaction(settings.database_url) as s:
        return list(s.scalars(
            select(Delivery.id).where(Delivery.status.in_(UNSENT), Delivery.updated_at < quiet_since,
                                      or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .order_by(Delivery.id).limit(limit)))


def reset_for_resend(settings: Settings, statement_id: int, statuses: tuple[str, ...], actor: str) -> list[int]:
    """An operator's decision to resend failed or unknown deliveries of a statement."""
    now = utcnow()
    with transaction(settings.database_url) as s:
        rows = s.scalars(select(Delivery).where(Delivery.statement_id == statement_id,
                                                Delivery.status.in_(statuses)).with_for_update()).all()
        for delivery in rows:
            delivery.status, delivery.next_attempt_at, delivery.updated_at = "pending", None, now
            s.add(event_for(delivery, "pending", f"requeued by {actor}"))
        return [d.id for d in rows]
