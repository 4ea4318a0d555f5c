"""Put committed deliveries on the broker: chunks of ids, live channels on their own queue.

Called only after the transaction that wrote the deliveries has committed (the outbox).
If the broker is down the rows stay pending and the sweep enqueues them later, so a
broker outage delays sends but never fails a publish.
"""

import logging

from sqlalchemy import select

from broadcaster.channels import LIVE_CHANNELS
from broadcaster.config import Settings
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery

from .app import BULK, LIVE, app_for

logger = logging.getLogger("broadcaster.enqueue")


def enqueue(settings: Settings, delivery_ids: list[int]) -> int:
    """Returns how many tasks went on the broker."""
    app = app_for(settings)
    sent = 0
    for queue, chunk in plan(settings, delivery_ids):
        try:
            app.send_task("broadcaster.send_chunk", args=[chunk], queue=queue)
            sent += 1
        except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep has the rows
            logger.warning("broker unavailable (%s): %d deliveries wait for the sweep", exc, len(chunk))
    return sent


def plan(settings: Settings, delivery_ids: list[int]) -> list[tuple[str, list[int]]]:
    with transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.id, Delivery.channel).where(Delivery.id.in_(delivery_ids))
                         .order_by(Delivery.id)).all()
    live = [i for i, channel in rows if channel in LIVE_CHANNELS]
    bulk = [i for i, channel in rows if channel not in LIVE_CHANNELS]
    size = settings.send_chunk_size
    # The banner goes live within seconds: one small task per live delivery, ahead of any fan-out.
    return ([(LIVE, [i]) for i in live]
            + [(BULK, bulk[start:start + size]) for start in range(0, len(bulk), size)])
