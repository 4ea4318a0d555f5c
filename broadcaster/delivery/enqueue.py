"""Put committed deliveries on the broker: chunks of ids, live channels on their own queue.

Called only after the transaction that wrote the deliveries has committed (the outbox).
If the broker is down the rows stay pending and the sweep enqueues them later, so a
broker outage delays sends but never fails a publish.
"""

import logging
import uuid
from collections.abc import Iterator

from sqlalchemy import select

from .. import channels
from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..store.db import one_of, transaction
from ..store.models import Delivery
from .broker import QUEUE_OF, PeriodicJob, Queue, TaskName, app_for

logger = logging.getLogger("broadcaster.enqueue")
LOOKUP_SLICE = 10_000


def enqueue(settings: Settings, delivery_ids: list[int], skip_pending_on: frozenset[Queue] = frozenset()) -> int:
    """Returns how many deliveries went on the broker."""
    sent = 0
    for queue, chunk in plan(settings, delivery_ids, skip_pending_on):
        try:
            send(settings, TaskName.SEND_CHUNK, chunk, queue=queue)
            sent += len(chunk)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep has the rows
            logger.warning("broker unavailable (%s): %d deliveries wait for the sweep", exc, len(chunk))
    return sent


def enqueue_fan_outs(settings: Settings, job_ids: list[int], runner: str | None = None) -> int:
    """Hand fan-out jobs to the workers; if the broker is down, the sweep finds them stalled. Each
    task carries its chain's `runner` token (a continuation its chain's, a new job a new one), so
    a task the broker delivers again after its worker died carries on as the same runner."""
    sent = 0
    for job in job_ids:
        try:
            send(settings, TaskName.FAN_OUT, job, runner or uuid.uuid4().hex)
            sent += 1
        except Exception as exc:  # noqa: BLE001 - any broker failure: the job waits in the database
            logger.warning("broker unavailable (%s): fan-out %d waits for the sweep", exc, job)
    return sent


def enqueue_due(settings: Settings, delivery_ids: list[int]) -> int:
    """The sweep's enqueue. A due `retry` row was never on the broker: it always goes. A
    `pending` row of the bulk queue was put there when it was written, and while that queue still
    has a backlog it is almost surely in it: a rate-limited fan-out to a million takes hours, and
    putting it all back every sweep would only grow the queue (the claim makes copies harmless, not
    free). Once the queue has drained, a pending row still due was lost (a restarted Redis, the
    memory broker of a command that exited), and goes back. A live row always goes back: there are
    a handful a statement, and the live queue's backlog says nothing about them, since it carries
    the periodic jobs too (a busy worker's queued sweeps kept a live surface unsent for good)."""
    app = app_for(settings)
    return enqueue(settings, delivery_ids, skip_pending_on=frozenset({Queue.BULK} if queued(app, Queue.BULK) else ()))


def send(settings: Settings, task: TaskName, *args, queue: Queue | None = None, **options) -> None:
    """Put one task on the broker: on its own queue (`QUEUE_OF`) unless told another."""
    app_for(settings).send_task(task.value, args=list(args), queue=(queue or QUEUE_OF[task]).value, **options)


def send_periodic(settings: Settings, job: PeriodicJob) -> None:
    """What beat does for `job` at each interval (embedded `serve` does it too); a run not started
    within its wait (`PeriodicJob.expires`) is dropped."""
    send(settings, job.task, expires=job.expires(settings))


def queued(app, queue: Queue) -> int:
    """Messages waiting on a queue (not those a worker has taken); 0 if the broker cannot say."""
    try:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=Queue(queue).value, passive=True).message_count
    except Exception:  # noqa: BLE001 - an absent (empty) queue or a broker that is down: nothing waits
        return 0


def plan(settings: Settings, delivery_ids: list[int],
         skip_pending_on: frozenset[Queue] = frozenset()) -> Iterator[tuple[Queue, list[int]]]:
    """(queue, chunk of ids) in id order. Looked up a slice at a time: a million ids would pass
    PostgreSQL's limit on query parameters, and a million rows need not sit in memory at once."""
    size, table = settings.send_chunk_size, Delivery.__table__
    for start in range(0, len(delivery_ids), LOOKUP_SLICE):
        with transaction(settings.database_url) as s:
            # The table's columns, not the entity's: plain rows, without the ORM's per-row loading.
            rows = s.execute(select(table.c.id, table.c.channel, table.c.status)
                             .where(one_of(s, table.c.id, delivery_ids[start:start + LOOKUP_SLICE]))
                             .order_by(table.c.id)).all()
        routed = [(_queue_of(channel), i) for i, channel, status in rows
                  if not (status == DeliveryStatus.PENDING and _queue_of(channel) in skip_pending_on)]
        # The banner goes live within seconds: one small task per live delivery, ahead of any fan-out.
        yield from ((Queue.LIVE, [i]) for queue, i in routed if queue == Queue.LIVE)
        bulk = [i for queue, i in routed if queue == Queue.BULK]
        yield from ((Queue.BULK, bulk[at:at + size]) for at in range(0, len(bulk), size))


def _queue_of(name: str) -> Queue:
    # One target each (a live surface, a reply to one post): the live queue, one task per delivery.
    return Queue.BULK if channels.channel(name).on_bulk_queue else Queue.LIVE
