"""One chunk of deliveries: claim → check → send → record.

- Before the call the stored renditions are **re-hashed** against the approval: a row
  edited behind the app's back is refused and logged, not sent.
- Before each batch the statement must still be the live version (a newer one cancels the
  rest of the chunk) and the channel must not be paused (refused credentials).
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
import os
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from queue import Empty, SimpleQueue

from sqlalchemy import select, update
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from .. import channels, links, metrics
from ..background import every
from ..channels import SendContext, SendResult, Target, Transport, TransportError, transport_for
from ..config import Settings
from ..domain.hashing import sha256_of
from ..store.content import approved_hashes, stored_content_hash
from ..store.db import one_of, transaction
from ..store.models import Delivery, Rendition, Statement, Subscriber, utcnow
from . import pause as pausing
from .ratelimit import limiter_wait
from .records import STALE, Outcome, claim, record
from .status import CANCELLED

logger = logging.getLogger("broadcaster.sending")

SHOWN = ("sent", "simulated")  # a live surface's delivery in one of these shows that version
RELEASED = "not sent: the chunk ran out of time; back in the queue"

Enqueue = Callable[[Settings, list[int]], int]  # returns how many went on the broker


def _released(delivery: Delivery) -> Outcome:
    return Outcome(delivery, "pending", detail=RELEASED, attempted=False)


def send_chunk(settings: Settings, delivery_ids: Iterable[int], requeue: Enqueue | None = None) -> dict[str, int]:
    """Claim what is still claimable of these deliveries, send it, record every outcome.
    Returns how many ended in each status (nothing, if another worker had them all).

    A chunk stops starting sends after `chunk_seconds` (a slow rate limit can make a thousand
    SMS take hours): what it did not start goes back to pending and, with `requeue`, back on
    the broker. The same happens when the task's time limit interrupts it, and then the sends
    in flight finish and are recorded first, so nothing is left sending behind a failed task."""
    claimed = claim(settings, list(delivery_ids))
    if not claimed:
        return {}
    recorder = _Recorder(settings)
    stop = threading.Event()
    with _lease_kept(settings, claimed), _deadline(settings.chunk_seconds, stop):
        try:
            refused: list[Outcome] = []
            batches = list(_batches(settings, _group(claimed), refused))  # all of it before any send starts
        except BaseException:
            record(settings, [_released(d) for d in claimed])
            raise
        recorder.add(refused)
        # The send threads take the batches one by one and hand back each batch's outcomes as it
        # finishes (one runner a thread, not one future a message: at a thousand SMS a chunk the
        # futures cost more than the bookkeeping).
        work, results = deque(batches), SimpleQueue()
        live = _LiveCheck(settings)
        pool = _send_pool(settings.send_threads)
        runners = [pool.submit(_run_batches, settings, work, results, stop, live)
                   for _ in range(min(settings.send_threads, len(batches)))]
        received = 0
        try:
            while received < len(batches):
                outcomes = _next_outcomes(results)
                received += 1  # counted before recording: an outcome taken off the queue is never lost
                recorder.add(outcomes)
        finally:
            # Also when interrupted (the task's time limit, a failed write): start nothing more (what
            # is left is released), let the sends in flight finish, and record every one.
            stop.set()
            wait(runners)
            recorder.take_all(_drain(results))
            recorder.flush()
    outcomes = recorder.outcomes
    export_if_a_surface_switched(settings, outcomes)
    released = [o.delivery.id for o in outcomes if not o.attempted and o.status == "pending"]
    if released and requeue:
        requeue(settings, released)
    tally: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        tally[outcome.status] += 1
    return dict(tally)


class _Recorder:
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
        self.outcomes.extend(outcomes)
        self._unrecorded += len(outcomes)
        if self._unrecorded >= self.FLUSH_ROWS or time.monotonic() - self._last >= self.FLUSH_SECONDS \
                or len(outcomes) > 1:
            self.flush()

    def take_all(self, outcomes: list[Outcome]) -> None:
        """Outcomes to record at the next flush, whatever their number."""
        self.outcomes.extend(outcomes)
        self._unrecorded += len(outcomes)

    def flush(self) -> None:
        if self._unrecorded:
            record(self.settings, self.outcomes[len(self.outcomes) - self._unrecorded:])
        self._unrecorded, self._last = 0, time.monotonic()


class _LiveCheck:
    """Is the statement still the live version? Asked before every batch, answered from the
    database at most every `SECONDS` (a chunk of a thousand SMS is a thousand batches)."""

    SECONDS = 0.2

    def __init__(self, settings: Settings):
        self.settings = settings
        self.lock = threading.Lock()
        self.known: dict[int, tuple[float, bool]] = {}

    def __call__(self, statement_id: int) -> bool:
        with self.lock:
            at, live = self.known.get(statement_id, (0.0, True))
            if time.monotonic() - at < self.SECONDS:
                return live
            with transaction(self.settings.database_url) as s:
                live = s.scalar(select(Statement.state).where(Statement.id == statement_id)) == "published"
            self.known[statement_id] = (time.monotonic(), live)
            return live


# Called after a live surface's delivery is recorded shown (the switch has committed). The public
# surfaces register their static export here (`broadcaster.surfaces`): delivery never imports them.
on_surface_switched: list[Callable[[Settings], object]] = []


def export_if_a_surface_switched(settings: Settings, outcomes: list[Outcome]) -> bool:
    """Run the switch hooks when a live surface now shows a new version and BROADCASTER_STATIC_DIR is
    set. The send is done and recorded: a failed hook is logged, never a failed send (the next
    switch, or `broadcaster export`, writes it again)."""
    if not settings.static_dir or not any(
            o.status in SHOWN and channels.channel(o.delivery.channel).is_live for o in outcomes):
        return False
    try:
        for hook in on_surface_switched:
            hook(settings)
    except Exception:  # noqa: BLE001 - a full disk or a bad path must not fail the send
        logger.exception("static export to %s failed; the live surfaces are switched regardless",
                         settings.static_dir)
        return False
    return bool(on_surface_switched)


def _next_outcomes(results: SimpleQueue) -> list[Outcome]:
    return results.get()


def _drain(results: SimpleQueue) -> list[Outcome]:
    outcomes: list[Outcome] = []
    while True:
        try:
            outcomes.extend(results.get_nowait())
        except Empty:
            return outcomes


def _run_batches(settings: Settings, work: deque, results: SimpleQueue, stop: threading.Event,
                 live: Callable[[int], bool]) -> None:
    """One send thread's share of a chunk: batch after batch until none is left, each batch's
    outcomes handed back as soon as it is done. Every batch taken gets outcomes, whatever happens."""
    while True:
        try:
            batch, targets, fields, context = work.popleft()
        except IndexError:
            return
        try:
            results.put(_send_batch(settings, batch, targets, fields, context, stop, live))
        except BaseException as exc:  # noqa: BLE001 - the send itself died: whether it went out is unknown
            results.put([Outcome(d, "unknown", detail=f"send thread failed, not resent until reconciled: {exc!r}")
                         for d in batch])


@contextmanager
def _deadline(seconds: float, stop: threading.Event):
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@cache
def _send_pool(threads: int) -> ThreadPoolExecutor:
    """The process's send threads. They live as long as the process, so each keeps its SDK
    clients and their open connections from one chunk to the next."""
    return ThreadPoolExecutor(threads, thread_name_prefix="send")


os.register_at_fork(after_in_child=_send_pool.cache_clear)  # a pool's threads do not survive a fork


def _lease_kept(settings: Settings, claimed: list[Delivery]):
    """Renew the claim while this worker is alive and working (a heartbeat every third of the
    lease): a slow, rate-limited chunk must not look like a dead worker, or the sweep would let a
    second worker send the same messages. A dead worker stops renewing, and its lease runs out.
    The rows are found by id (no scan for the token) and a row being recorded at that moment is
    skipped, not waited for: it needs no lease any more, and waiting could deadlock the two."""
    token, ids = claimed[0].claim_token, [d.id for d in claimed]

    def renew() -> None:
        with transaction(settings.database_url) as s:
            held = select(Delivery.id).where(one_of(s, Delivery.id, ids), Delivery.claim_token == token,
                                             Delivery.status == "sending").with_for_update(skip_locked=True)
            s.execute(update(Delivery).where(Delivery.id.in_(held.scalar_subquery()))
                      .values(lease_until=utcnow() + timedelta(seconds=settings.lease_seconds))
                      .execution_options(synchronize_session=False))

    return every(settings.lease_seconds / 3, renew, "lease renewal")


def _group(deliveries: list[Delivery]) -> dict[tuple[int, str], list[Delivery]]:
    groups: dict[tuple[int, str], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        groups[(delivery.statement_id, delivery.channel)].append(delivery)
    return groups


def _batches(settings: Settings, groups: dict[tuple[int, str], list[Delivery]], outcomes: list[Outcome]):
    """(targets, approved fields, context) per provider call; refused groups go straight to outcomes."""
    for (_statement_id, name), deliveries in groups.items():
        statement = deliveries[0].statement
        rendition = next(r for r in statement.renditions if r.channel == channels.channel(name).rendition)
        problem = _tampering(settings, statement, rendition)
        if problem:
            logger.error("refusing to send statement %s on %s: %s", statement.id, name, problem)
            outcomes.extend(Outcome(d, "failed", error_code="tampered", detail=problem) for d in deliveries)
            continue
        context = _context(settings, statement, name)
        targets = _targets(settings, name, deliveries)
        size = transport_for(name, settings).batch_size
        for start in range(0, len(deliveries), size):
            yield deliveries[start:start + size], targets[start:start + size], dict(rendition.fields), context


def _targets(settings: Settings, name: str, deliveries: list[Delivery]) -> list[Target]:
    """Where each delivery goes, with the per-recipient fields outside the approved text."""
    details = _target_details(settings, name, [d.target for d in deliveries])
    return [Target(d.id, d.target, links.unsubscribe_url(settings, d.id, d.link_nonce),
                   links.status_callback_url(settings, d.id),
                   details.get(d.target, {})) for d in deliveries]


def _target_details(settings: Settings, name: str, addresses: list[str]) -> dict[str, dict]:
    """{address: {field: value}} of the subscriber fields the channel asks for (e.g. a signing secret)."""
    ch = channels.channel(name)
    if ch.lookup_details:
        return ch.lookup_details(settings, addresses)
    if not ch.target_details:
        return {}
    address = getattr(Subscriber, ch.address)
    with transaction(settings.database_url) as s:
        rows = s.execute(select(address, *(getattr(Subscriber, f) for f in ch.target_details))
                         .where(address.in_(addresses))).all()
    return {row[0]: dict(zip(ch.target_details, row[1:], strict=True)) for row in rows}


def _tampering(settings: Settings, statement: Statement, rendition: Rendition) -> str | None:
    """Why the stored words are not the approved words, or None if they are. Only sealed
    approvals count: hashes recomputed in the database carry no valid seal."""
    hash_now, approved = stored_content_hash(statement), approved_hashes(statement, settings.secret_key)
    if hash_now not in approved or sha256_of(rendition.fields) != rendition.content_hash:
        return (f"stored {rendition.channel} rendition no longer matches the approval: content hashes to "
                f"{hash_now[:12]}, sealed approvals cover {', '.join(h[:12] for h in approved) or 'nothing'}; refused")
    return None


def _context(settings: Settings, statement: Statement, name: str) -> SendContext:
    threads = channels.channel(name).threads_updates
    return SendContext(statement_id=statement.id, incident_id=statement.incident_id, version=statement.version,
                       reply_to=_previous_post(settings, statement, name) if threads else None,
                       content_hash=statement.content_hash)


def _previous_post(settings: Settings, statement: Statement, name: str) -> str | None:
    """Later updates of one incident are posted as replies to the previous post: a thread.
    Only a post the provider really made counts (the log provider's ids are not posts)."""
    with transaction(settings.database_url) as s:
        return s.scalar(
            select(Delivery.provider_message_id).join(Statement, Statement.id == Delivery.statement_id)
            .where(Statement.incident_id == statement.incident_id, Statement.version < statement.version,
                   Delivery.channel == name, Delivery.status == "sent", Delivery.provider != "log")
            .order_by(Statement.version.desc()).limit(1))


def _send_batch(settings: Settings, deliveries: list[Delivery], targets: list[Target], fields: dict[str, str],
                context: SendContext, stop: threading.Event, live: Callable[[int], bool] | None = None
                ) -> list[Outcome]:
    if stop.is_set():
        return [_released(d) for d in deliveries]
    if live is not None and not live(context.statement_id):
        return [Outcome(d, CANCELLED, detail=STALE, attempted=False) for d in deliveries]
    name = deliveries[0].channel
    waiting = pausing.held_back(settings, name)
    if waiting:
        return [_paused(settings, d, waiting) for d in deliveries]
    transport = transport_for(name, settings)
    by_id = {d.id: d for d in deliveries}
    try:
        rate = channels.rate_for(name, settings)
        results = _call_with_quick_retries(settings, transport, fields, targets, context, rate)
    except TransportError as exc:
        if exc.credentials:
            pausing.pause(settings, name, str(exc))
        outcomes = [_failure(settings, d, exc) for d in deliveries]
        if exc.ambiguous and len(deliveries) > 1:  # the exact batch an operator checks with the provider
            note = f" [one provider batch of {len(deliveries)}: delivery ids {deliveries[0].id}..{deliveries[-1].id}]"
            for outcome in outcomes:
                outcome.detail += note
        return outcomes
    except Exception as exc:  # noqa: BLE001 - an SDK surprise: we cannot know whether it went out
        logger.exception("unexpected error sending %s", name)
        return [Outcome(d, "unknown", detail=f"unexpected error, not resent until reconciled: {exc!r}")
                for d in deliveries]
    if transport.provider != "log":
        pausing.resume_if_paused(settings, name)
    return [_success(settings, by_id[r.delivery_id], r) for r in results]


def _paused(settings: Settings, delivery: Delivery, why: str) -> Outcome:
    """Waits for the channel's credentials to work again; the attempt is not counted."""
    return Outcome(delivery, "retry", error_code="paused", detail=f"{why}; waiting, not failed",
                   next_attempt_at=pausing.retry_at(settings), attempted=False)


def _call_with_quick_retries(settings: Settings, transport: Transport, fields: dict[str, str],
                             targets: list[Target], context: SendContext, rate: str | None = None
                             ) -> list[SendResult]:
    def worth_retrying_now(exc: BaseException) -> bool:
        # Only an error proving nothing was sent: an ambiguous one may have reached the customer;
        # one that never reached the provider (our own budget) waits in its row, not in this thread.
        return (isinstance(exc, TransportError) and not (exc.permanent or exc.ambiguous or exc.credentials)
                and exc.attempted
                and (exc.retry_after or 0) <= settings.quick_retry_max_wait_seconds)

    backoff = wait_exponential_jitter(multiplier=0.2, max=settings.quick_retry_max_wait_seconds)

    def wait(state: RetryCallState) -> float:
        hint = getattr(state.outcome.exception(), "retry_after", None)
        return hint if hint is not None else backoff(state)

    for attempt in Retrying(retry=retry_if_exception(worth_retrying_now), wait=wait, reraise=True,
                            stop=stop_after_attempt(settings.quick_retries)):
        with attempt:
            limiter_wait(settings, transport, rate, cost=len(targets) if transport.batch_size == 1 else 1)
            started = time.perf_counter()
            try:
                return transport.notify(fields, targets, context)
            finally:
                metrics.observe_latency(transport.provider, time.perf_counter() - started)
    raise AssertionError("unreachable: tenacity reraises")


def _success(settings: Settings, delivery: Delivery, result: SendResult) -> Outcome:
    if result.error is not None:  # this target's part of a batch that partly went out
        return _failure(settings, delivery, result.error)
    return Outcome(delivery, result.status, provider_message_id=result.provider_message_id, detail=result.detail)


def _failure(settings: Settings, delivery: Delivery, exc: TransportError) -> Outcome:
    code = exc.code or ("permanent" if exc.permanent else "transient")
    if exc.credentials:
        return _paused(settings, delivery, f"channel {delivery.channel} is paused: {exc}")
    if exc.ambiguous:
        return Outcome(delivery, "unknown", error_code=code,
                       detail=f"{code}: {exc}; it may have gone out: reconciled before any resend")
    if not exc.attempted:  # never reached the provider: wait in the row (the sweep brings it back), no attempt spent
        delay = exc.retry_after or settings.backoff_base_seconds
        return Outcome(delivery, "retry", error_code=code, next_attempt_at=utcnow() + timedelta(seconds=delay),
                       detail=f"{code}: {exc}; not sent, next try in {delay:.1f} s", attempted=False)
    if exc.permanent:
        return Outcome(delivery, "failed", error_code=code, detail=f"{code}: {exc}", opted_out=exc.opted_out)
    if delivery.attempts >= settings.max_attempts:
        return Outcome(delivery, "failed", error_code=code,
                       detail=f"gave up after {delivery.attempts} attempts; last error {code}: {exc}")
    delay = backoff_seconds(settings, delivery.attempts, exc.retry_after)
    return Outcome(delivery, "retry", error_code=code, next_attempt_at=utcnow() + timedelta(seconds=delay),
                   detail=f"{code}: {exc}; next attempt in {delay:.0f} s")


def backoff_seconds(settings: Settings, attempts: int, retry_after: float | None = None) -> float:
    """Exponential, capped, with jitter so a thousand retries do not land in the same second."""
    ceiling = min(settings.backoff_cap_seconds, settings.backoff_base_seconds * 2 ** max(attempts - 1, 0))
    return max(random.uniform(ceiling / 2, ceiling), retry_after or 0)


def send_now(settings: Settings, delivery_ids: list[int]) -> None:
    """Send in this process, no broker (tests and tools)."""
    for start in range(0, len(delivery_ids), settings.send_chunk_size):
        send_chunk(settings, delivery_ids[start:start + settings.send_chunk_size])
