"""How far a fan-out has got: what the CLI and the dashboard show while it runs."""

from collections import defaultdict

from sqlalchemy import func, or_, select

from ..config import Settings
from ..domain.delivery_status import PREPARING, UNSENT, DeliveryStatus
from ..store.db import transaction
from ..store.models import Delivery, FanOut
from .fanout import FanOutState, not_yet_written


def progress(settings: Settings, statement_id: int) -> dict[str, dict[str, int]]:
    """{channel: {status: count}} for one statement's deliveries; while a fan-out still writes
    them, its subscribers not yet reached count as `preparing`."""
    with transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.channel, Delivery.status, func.count())
                         .where(Delivery.statement_id == statement_id)
                         .group_by(Delivery.channel, Delivery.status)).all()
        preparing = not_yet_written(s, statement_id)
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, status, count in rows:
        result[channel][status] = count
    for channel, count in preparing.items():
        result[channel][PREPARING] = count
    return dict(result)


def work_left(settings: Settings) -> int:
    """Deliveries being sent, or waiting for a first send (not those waiting out a backoff), and
    fan-outs still writing deliveries."""
    with transaction(settings.database_url) as s:
        sending = s.scalar(select(func.count()).where(or_(
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.status.in_(UNSENT) & Delivery.next_attempt_at.is_(None)))) or 0
        return sending + (s.scalar(select(func.count()).where(FanOut.status == FanOutState.RUNNING)) or 0)


WAITING = "waiting"  # not a status: an unsent delivery whose next try waits out a backoff or a rate window


def statuses(settings: Settings, delivery_ids: list[int]) -> dict[int, str]:
    """{delivery id: its status now}, or WAITING for an unsent one whose next try waits
    (`next_attempt_at`): what a command that queued these says once they are settled."""
    with transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.id, Delivery.status, Delivery.next_attempt_at)
                         .where(Delivery.id.in_(delivery_ids[:10_000]))).all()
    return {i: (WAITING if status in UNSENT and next_at is not None else status) for i, status, next_at in rows}


def settled(shown: dict[int, str]) -> bool:
    """Nothing of these is being sent or waiting for its first send (`statuses`)."""
    return not any(status == DeliveryStatus.SENDING or status in UNSENT for status in shown.values())


def totals(settings: Settings) -> dict[str, int]:
    """{status: count} of every delivery of the live versions (what is going out now)."""
    from .records import live_statements

    with transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.status, func.count()).where(Delivery.statement_id.in_(live_statements()))
                         .group_by(Delivery.status).order_by(Delivery.status)).all()
    return dict(rows)
