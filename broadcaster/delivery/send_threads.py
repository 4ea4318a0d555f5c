"""A chunk's send threads: the process's long-lived pool (SDK clients keep their connections), each
thread taking batch after batch, outcomes recorded as batches finish, the claim's lease renewed
while the worker lives, and a deadline after which nothing more starts."""

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from queue import Empty, SimpleQueue

from sqlalchemy import select, update

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..store.db import one_of, retrying, transaction
from ..store.models import Delivery, utcnow
from .background import every
from .claimed import ClaimedDelivery
from .lease_fence import Fence
from .provider_calls import send_batch
from .records import Outcome, record


class Recorder:
    """Records outcomes as batches finish: at once for a provider batch of many (an email batch),
    gathered for at most `FLUSH_SECONDS` for one-message calls (SMS), so a worker killed mid-chunk
    leaves only a moment's sends to reconcile, and a thousand SMS are not a thousand commits."""

    FLUSH_SECONDS, FLUSH_ROWS = 0.25, 200

    def __init__(self, settings: Settings):
        self.settings = settings
        self.outcomes: list[Outcome] = []
        self._unrecorded = 0
        self._last = time.monotonic()

    def add(self, outcomes: list[Outcome]) -> None:
        self.add_batches([outcomes])

    def add_batches(self, batches: list[list[Outcome]]) -> None:
        """Every batch's outcomes taken in before any is written: a failed write loses none of them."""
        for outcomes in batches:
            self.outcomes.extend(outcomes)
            self._unrecorded += len(outcomes)
        if self._unrecorded >= self.FLUSH_ROWS or time.monotonic() - self._last >= self.FLUSH_SECONDS \
                or any(len(outcomes) > 1 for outcomes in batches):
            self.flush()

    def take_all(self, outcomes: list[Outcome]) -> None:
        """Outcomes to record at the next flush, whatever their number."""
        self.outcomes.extend(outcomes)
        self._unrecorded += len(outcomes)

    def flush(self) -> None:
        if self._unrecorded:
            # Run again if the database dropped it (a failover): only rows still under this claim change.
            unrecorded = self.outcomes[len(self.outcomes) - self._unrecorded:]
            retrying(self.settings.database_url, lambda: record(self.settings, unrecorded))
        self._unrecorded, self._last = 0, time.monotonic()


GATHER_SECONDS = 0.01


def next_outcomes(results: SimpleQueue) -> list[list[Outcome]]:
    """The outcomes of every batch finished since the last call (at least one batch's), each batch's
    its own list. After the first, wait a moment for more: a thousand SMS are a thousand batches, and
    waking for each one (a thread switch and a turn of the GIL per message) cost more CPU than the
    bookkeeping it did. A batch taken off the queue is never lost: interrupted while waiting (the
    task's time limit), it goes back on the queue for the chunk's final drain."""
    first = results.get()
    try:
        time.sleep(GATHER_SECONDS)
    except BaseException:
        results.put(first)
        raise
    return [first, *_waiting(results)]


def drain(results: SimpleQueue) -> list[Outcome]:
    return [outcome for outcomes in _waiting(results) for outcome in outcomes]


def _waiting(results: SimpleQueue) -> list[list[Outcome]]:
    """Every batch's outcomes on the queue now, without waiting for more."""
    batches = []
    while True:
        try:
            batches.append(results.get_nowait())
        except Empty:
            return batches


def run_batches(settings: Settings, work: deque, results: SimpleQueue, stop: Fence,
                 wanted: Callable[[ClaimedDelivery], bool]) -> None:
    """One send thread's share of a chunk: batch after batch until none is left, each batch's
    outcomes handed back as soon as it is done. Every batch taken gets outcomes, whatever happens."""
    while True:
        try:
            batch, targets, fields, context = work.popleft()
        except IndexError:
            return
        try:
            results.put(send_batch(settings, batch, targets, fields, context, stop, wanted))
        except BaseException as exc:  # noqa: BLE001 - the send itself died: whether it went out is unknown
            results.put([Outcome(d, DeliveryStatus.UNKNOWN,
                                 detail=f"send thread failed, not resent until reconciled: {exc!r}") for d in batch])


@contextmanager
def deadline(seconds: float, stop: Fence):
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@cache
def send_pool(threads: int) -> ThreadPoolExecutor:
    """The process's send threads. They live as long as the process, so each keeps its SDK
    clients and their open connections from one chunk to the next."""
    return ThreadPoolExecutor(threads, thread_name_prefix="send")


os.register_at_fork(after_in_child=send_pool.cache_clear)  # a pool's threads do not survive a fork


@contextmanager
def lease_kept(settings: Settings, claimed: list[ClaimedDelivery], fence: Fence):
    """Renew the claim while this worker is alive and working (a heartbeat every third of the
    lease): a slow, rate-limited chunk must not look like a dead worker, or the sweep would let a
    second worker send the same messages. A dead worker stops renewing, and its lease runs out;
    a live one whose renewals stop (starved, or the database gone) stops sending (`Fence`).
    The rows are found by id (no scan for the token) and a row being recorded at that moment is
    skipped, not waited for: it needs no lease any more, and waiting could deadlock the two."""
    token, ids = claimed[0].claim_token, [d.id for d in claimed]

    def renew() -> None:
        began = time.monotonic()
        with transaction(settings.database_url) as s:
            held = (select(Delivery.id).where(one_of(s, Delivery.id, ids), Delivery.claim_token == token,
                                              Delivery.status == DeliveryStatus.SENDING)
                    .with_for_update(skip_locked=True))
            renewed = s.execute(update(Delivery).where(Delivery.id.in_(held.scalar_subquery()))
                                .values(lease_until=utcnow() + timedelta(seconds=settings.lease_seconds))
                                .execution_options(synchronize_session=False)).rowcount
        if renewed:  # none: every row recorded (nothing more to send), or the sweep expired the claim
            fence.renewed(began)

    with every(settings.lease_seconds / 3, renew, "lease renewal"):
        yield
