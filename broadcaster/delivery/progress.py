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


def totals(settings: Settings) -> dict[str, int]:
    """{status: count} of every delivery of the live versions (what is going out now)."""
    from .records import live_statements

    with transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.status, func.count()).where(Delivery.statement_id.in_(live_statements()))
                         .group_by(Delivery.status).order_by(Delivery.status)).all()
    return dict(rows)
