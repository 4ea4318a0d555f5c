"""Claim → check → send → record, for one delivery at a time.

A delivery is sent only by whoever claims it with one conditional UPDATE
(pending/retry → sending). The claim is committed before the provider call, so a
crash mid-call leaves a ``sending`` row with an expired lease, never a silent gap.
Before the call the stored rendition is re-hashed against the approved hash: a row
edited behind the app's back is refused and logged, not sent.
"""

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .channels import SendResult, TransportError, transport_for
from .config import Settings
from .domain.hashing import sha256_of
from .store.content import approved_hashes, stored_content_hash
from .store.db import transaction
from .store.models import Delivery, DeliveryEvent, Rendition, Statement, utcnow

LEASE = timedelta(minutes=5)
UNSENT = ("pending", "retry")


def event_for(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None) -> DeliveryEvent:
    return DeliveryEvent(delivery_id=delivery.id, statement_id=delivery.statement_id, channel=delivery.channel,
                         target=delivery.target, provider=delivery.provider, status=status,
                         attempt=delivery.attempts, provider_message_id=delivery.provider_message_id,
                         content_hash=content_hash, detail=detail)


def cancel_unsent(s: Session, statement_id: int) -> int:
    """A newer version is live: what of this one has not gone out yet never will."""
    rows = s.scalars(select(Delivery).where(Delivery.statement_id == statement_id,
                                            Delivery.status.in_(UNSENT)).with_for_update()).all()
    for delivery in rows:
        delivery.status = "cancelled"
        s.add(event_for(delivery, "cancelled", "a newer version was published"))
    return len(rows)


def send_now(settings: Settings, delivery_ids: list[int]) -> None:
    """Send in this process, one after another (the embedded default and the CLI)."""
    for delivery_id in delivery_ids:
        send_one(settings, delivery_id)


def claim(s: Session, delivery_id: int) -> bool:
    now = utcnow()
    claimed = s.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(UNSENT))
        .values(status="sending", attempts=Delivery.attempts + 1, lease_until=now + LEASE, updated_at=now)
    ).rowcount
    return claimed == 1


def send_one(settings: Settings, delivery_id: int) -> str | None:
    """Returns the delivery's new status, or None if someone else had it."""
    url = settings.database_url
    with transaction(url) as s:
        if not claim(s, delivery_id):
            return None
        delivery = s.get(Delivery, delivery_id)
        rendition = s.scalar(select(Rendition).where(Rendition.statement_id == delivery.statement_id,
                                                     Rendition.channel == delivery.channel))
        s.add(event_for(delivery, "sending", content_hash=rendition.content_hash))
        fields, target, channel = dict(rendition.fields), delivery.target, delivery.channel
        tampering = _tampering(s.get(Statement, delivery.statement_id), rendition)

    if tampering:
        return _record(url, delivery_id, "failed", error=("tampered", tampering))
    try:
        result = transport_for(channel).notify(fields, target, delivery_id)
    except TransportError as exc:
        status = "failed" if exc.permanent else "retry"
        return _record(url, delivery_id, status, error=(exc.code or "error", str(exc)))
    return _record(url, delivery_id, result.status, result=result)


def _tampering(statement: Statement, rendition: Rendition) -> str | None:
    """Why the stored words are not the approved words, or None if they are."""
    hash_now, approved = stored_content_hash(statement), approved_hashes(statement)
    if hash_now not in approved or sha256_of(rendition.fields) != rendition.content_hash:
        return (f"stored {rendition.channel} rendition no longer matches the approval: content hashes to "
                f"{hash_now[:12]}, approved {', '.join(h[:12] for h in approved) or 'nothing'}; refused")
    return None


def _record(url: str, delivery_id: int, status: str, result: SendResult | None = None,
            error: tuple[str, str] | None = None) -> str:
    with transaction(url) as s:
        delivery = s.get(Delivery, delivery_id)
        delivery.status = status
        delivery.lease_until = None
        if result is not None:
            delivery.provider_message_id = result.provider_message_id
        if error is not None:
            delivery.error_code, delivery.error_message = error
        s.add(event_for(delivery, status, result.detail if result else f"{error[0]}: {error[1]}"))
    return status
