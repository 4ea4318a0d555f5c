"""One chunk of deliveries: claim → check → send → record.

- Before the call the stored words are **re-hashed** against the approval (`batches.py`): a row
  edited behind the app's back is refused and logged, not sent.
- Before each batch the statement must still be the live version, or the message still valid (a
  newer version, or a void message, cancels the rest of the chunk), and the channel must not be
  paused (refused credentials).
- The call runs inside **tenacity**, but only for errors that prove nothing was sent
  (connection refused, DNS, a 429, a documented "not accepted"). An error that may come after
  the provider accepted the message (read timeout, dropped connection, 5xx) makes the delivery
  ``unknown``: reconciled with the provider, never resent blindly. Once the quick budget is
  spent the delivery goes to ``retry`` with an exponential backoff and jitter stored in the
  row; the **sweep** picks it up when due. Long waits live in the row, never in a broker ETA.
- Outcomes are recorded as the batches finish (a worker killed mid-chunk leaves only the
  batches in flight to reconcile), and only while this worker's claim holds.
- Sends run on the process's long-lived send threads, so SDK clients keep their connections.
"""

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from concurrent.futures import wait
from queue import SimpleQueue

from sqlalchemy import select

from .. import channels
from ..config import Settings
from ..domain.delivery_status import SHOWN, DeliveryStatus
from ..domain.event_types import EventType
from ..domain.message_secrets import MessageKind
from ..store.db import transaction
from ..store.models import Message, Statement, utcnow
from .batches import batches, group
from .claimed import ClaimedDelivery
from .dispatch import Dispatch, surface_switch_hooks
from .hooks import raise_event
from .lease_fence import Fence
from .provider_calls import released
from .records import Outcome, claim, record
from .send_threads import Recorder, deadline, drain, lease_kept, next_outcomes, run_batches, send_pool

logger = logging.getLogger("broadcaster.sending")


def send_chunk(settings: Settings, delivery_ids: Iterable[int], requeue: Dispatch | None = None) -> dict[str, int]:
    """Claim what is still claimable of these deliveries, send it, record every outcome.
    Returns how many ended in each status (nothing, if another worker had them all).

    A chunk stops starting sends after `chunk_seconds` (a slow rate limit can make a thousand
    SMS take hours): what it did not start goes back to pending and, with `requeue`, back on
    the broker. The same happens when the task's time limit interrupts it, and then the sends
    in flight finish and are recorded first, so nothing is left sending behind a failed task."""
    claimed_at = time.monotonic()
    claimed = claim(settings, list(delivery_ids))
    if not claimed:
        return {}
    recorder = Recorder(settings)
    stop = Fence(settings.lease_seconds)  # claimed just now: the lease runs from about here
    with lease_kept(settings, claimed, stop), deadline(settings.chunk_seconds, stop):
        try:
            refused: list[Outcome] = []
            planned = list(batches(settings, group(claimed), refused))  # all of it before any send starts
        except BaseException:
            record(settings, [released(d) for d in claimed])
            raise
        recorder.add(refused)
        # The send threads take the batches one by one and hand back each batch's outcomes as it
        # finishes (one runner a thread, not one future a message: at a thousand SMS a chunk the
        # futures cost more than the bookkeeping).
        work, results = deque(planned), SimpleQueue()
        live = _LiveCheck(settings, claimed, claimed_at)
        pool = send_pool(settings.send_threads)
        runners = [pool.submit(run_batches, settings, work, results, stop, live)
                   for _ in range(min(settings.send_threads, len(planned)))]
        received = 0
        try:
            while received < len(planned):
                gathered = next_outcomes(results)
                received += len(gathered)  # counted before recording: an outcome taken off the queue is never lost
                recorder.add_batches(gathered)
        finally:
            # Also when interrupted (the task's time limit, a failed write): start nothing more (what
            # is left is released), let the sends in flight finish, and record every one.
            stop.set()
            wait(runners)
            recorder.take_all(drain(results))
            recorder.flush()
    outcomes = recorder.outcomes
    after_a_surface_switched(settings, outcomes)
    report_failures(settings, outcomes)
    untried = [o.delivery.id for o in outcomes if not o.attempted and o.status == DeliveryStatus.PENDING]
    if untried and requeue:
        requeue(settings, untried)
    tally: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        tally[outcome.status] += 1
    return dict(tally)


class _LiveCheck:
    """Is a delivery still wanted: its statement the live version, its message still valid? Asked
    before every batch, answered from the database at most every `SECONDS` per statement or message
    (a chunk of a thousand SMS is a thousand batches)."""

    SECONDS = 0.2

    def __init__(self, settings: Settings, claimed: list[ClaimedDelivery], claimed_at: float):
        self.settings = settings
        self.lock = threading.Lock()
        # The claim has just found every claimed delivery wanted (claim() returns no other): that is the
        # first answer, as of `claimed_at` (monotonic, taken before the claim), so a chunk sent within
        # SECONDS asks the database nothing more.
        self.known: dict[tuple[str, int], tuple[float, bool]] = {self.key(d): (claimed_at, True) for d in claimed}

    @staticmethod
    def key(delivery: ClaimedDelivery) -> tuple[str, int]:
        return ("message", delivery.message_id) if delivery.message_id else ("statement", delivery.statement_id)

    def __call__(self, delivery: ClaimedDelivery) -> bool:
        key = self.key(delivery)
        with self.lock:
            at, wanted = self.known.get(key, (0.0, True))
            if time.monotonic() - at < self.SECONDS:
                return wanted
            with transaction(self.settings.database_url) as s:
                if delivery.message_id:
                    wanted = s.scalar(select(Message.id).where(
                        Message.id == delivery.message_id, Message.withdrawn_at.is_(None),
                        Message.expires_at > utcnow())) is not None
                else:
                    wanted = s.scalar(select(Statement.state).where(
                        Statement.id == delivery.statement_id)) == "published"
            self.known[key] = (time.monotonic(), wanted)
            return wanted


MOST_FAILURES_IN_AN_EVENT = 100


def report_failures(settings: Settings, outcomes: list[Outcome]) -> None:
    """One `delivery.failed` event per chunk that failed sends for good (a chunk, not a delivery: an
    outage failing a hundred thousand sends raises a few hundred events, not a hundred thousand). An
    event's own failed delivery raises none."""
    failed = [o for o in outcomes if o.status == DeliveryStatus.FAILED and not _is_event(o.delivery)]
    if not failed:
        return
    raise_event(settings, EventType.DELIVERY_FAILED, {"failed": len(failed), "deliveries": [
        {"id": o.delivery.id, "channel": o.delivery.channel, "statement_id": o.delivery.statement_id,
         "message_id": o.delivery.message_id, "error_code": o.error_code, "detail": (o.detail or "")[:300]}
        for o in failed[:MOST_FAILURES_IN_AN_EVENT]]})


def _is_event(delivery: ClaimedDelivery) -> bool:
    return delivery.message_id is not None and delivery.message.kind == MessageKind.EVENT


def after_a_surface_switched(settings: Settings, outcomes: list[Outcome]) -> bool:
    """Run the switch hooks when a live surface now shows a new version: the static export (when
    BROADCASTER_STATIC_DIR is set) and the announcement to the public servers. The send is done and
    recorded: a failed hook is logged, never a failed send (the next switch, `broadcaster export`,
    the public servers' polling, catch up)."""
    if not any(o.status in SHOWN and channels.channel(o.delivery.channel).is_live for o in outcomes):
        return False
    # Called once the switch has committed. The public surfaces register their hooks
    # (`dispatch.on_surface_switched`) when the process is assembled: delivery never imports them.
    hooks = surface_switch_hooks()
    ran = True
    for hook in hooks:
        try:
            hook(settings)
        except Exception:  # noqa: BLE001 - a full disk or a bad path must not fail the send
            logger.exception("%s failed after a surface switch (static export to %s); the live surfaces are "
                             "switched regardless", getattr(hook, "__name__", hook), settings.static_dir)
            ran = False
    return ran and bool(hooks)


def send_now(settings: Settings, delivery_ids: list[int]) -> None:
    """Send in this process, no broker (tests and tools)."""
    for start in range(0, len(delivery_ids), settings.send_chunk_size):
        send_chunk(settings, delivery_ids[start:start + settings.send_chunk_size])
