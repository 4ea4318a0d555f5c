"""One chunk of deliveries: claim → check → send → record.

- Before the call the stored renditions are **re-hashed** against the approval: a row
  edited behind the app's back is refused and logged, not sent.
- The call runs inside **tenacity** for blips (connection errors, 5xx, 429 with a short
  Retry-After). Once that budget is spent the delivery goes to ``retry`` with an
  exponential backoff and jitter stored in the row; the **sweep** picks it up when due.
  Long waits live in the row, never in a broker ETA (Redis redelivers long ETAs twice).
- Sends run on the process's long-lived send threads, so SDK clients keep their connections.
"""

import logging
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

from sqlalchemy import select, update
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from .. import channels, links, metrics
from ..background import every
from ..channels import SendContext, SendResult, Target, Transport, TransportError, transport_for
from ..config import Settings
from ..domain.hashing import sha256_of
from ..store.content import approved_hashes, stored_content_hash
from ..store.db import transaction
from ..store.models import Delivery, Rendition, Statement, Subscriber, utcnow
from .ratelimit import limiter_wait
from .records import Outcome, claim, record

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
    outcomes: list[Outcome] = []
    stop = threading.Event()
    with _lease_kept(settings, [d.id for d in claimed]), _deadline(settings.chunk_seconds, stop):
        try:
            batches = list(_batches(settings, _group(claimed), outcomes))  # all of it before any send starts
        except BaseException:
            record(settings, [_released(d) for d in claimed])
            raise
        pool = _send_pool(settings.send_threads)
        sends = [(batch, pool.submit(_send_batch, settings, batch, targets, fields, context, stop))
                 for batch, targets, fields, context in batches]
        try:
            wait([future for _, future in sends])
        finally:
            # Also when interrupted (the task's time limit): start nothing more, let the sends in
            # flight finish, and record every one before giving up.
            stop.set()
            wait([future for _, future in sends])
            outcomes.extend(_outcomes_of(sends))
            record(settings, outcomes)
    export_if_a_surface_switched(settings, outcomes)
    released = [o.delivery.id for o in outcomes if not o.attempted]
    if released and requeue:
        requeue(settings, released)
    tally: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        tally[outcome.status] += 1
    return dict(tally)


def export_if_a_surface_switched(settings: Settings, outcomes: list[Outcome]) -> bool:
    """After a live surface's delivery is recorded sent (committed: the switch), rewrite the static
    export when BROADCASTER_STATIC_DIR is set. The send is done and recorded: a failed export is
    logged, never a failed send (the next switch, or `broadcaster export`, writes it again)."""
    if not settings.static_dir or not any(
            o.status in SHOWN and channels.channel(o.delivery.channel).is_live for o in outcomes):
        return False
    from ..surfaces import export_if_configured  # only workers that switch a surface pay for it

    try:
        export_if_configured(settings)
    except Exception:  # noqa: BLE001 - a full disk or a bad path must not fail the send
        logger.exception("static export to %s failed; the live surfaces are switched regardless",
                         settings.static_dir)
        return False
    return True


def _outcomes_of(sends: list[tuple[list[Delivery], Future]]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for batch, future in sends:
        if future.exception() is None:
            outcomes.extend(future.result())
        else:  # the send thread itself died: whether it went out is unknown
            outcomes.extend(Outcome(d, "unknown", detail=f"send thread failed, not resent until reconciled: "
                                    f"{future.exception()!r}") for d in batch)
    return outcomes


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


def _lease_kept(settings: Settings, delivery_ids: list[int]):
    """Renew the claim while this worker is alive and working: a slow, rate-limited chunk must not
    look like a dead worker, or the sweep would let a second worker send the same messages."""
    def renew() -> None:
        with transaction(settings.database_url) as s:
            s.execute(update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.status == "sending")
                      .values(lease_until=utcnow() + timedelta(seconds=settings.lease_seconds)))

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
        rendition = next(r for r in statement.renditions if r.channel == name)
        problem = _tampering(statement, rendition)
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
    return [Target(d.id, d.target, links.unsubscribe_url(settings, d.id), links.status_callback_url(settings, d.id),
                   details.get(d.target, {})) for d in deliveries]


def _target_details(settings: Settings, name: str, addresses: list[str]) -> dict[str, dict]:
    """{address: {field: value}} of the subscriber fields the channel asks for (e.g. a signing secret)."""
    ch = channels.channel(name)
    if not ch.target_details:
        return {}
    address = getattr(Subscriber, ch.address)
    with transaction(settings.database_url) as s:
        rows = s.execute(select(address, *(getattr(Subscriber, f) for f in ch.target_details))
                         .where(address.in_(addresses))).all()
    return {row[0]: dict(zip(ch.target_details, row[1:], strict=True)) for row in rows}


def _tampering(statement: Statement, rendition: Rendition) -> str | None:
    """Why the stored words are not the approved words, or None if they are."""
    hash_now, approved = stored_content_hash(statement), approved_hashes(statement)
    if hash_now not in approved or sha256_of(rendition.fields) != rendition.content_hash:
        return (f"stored {rendition.channel} rendition no longer matches the approval: content hashes to "
                f"{hash_now[:12]}, approved {', '.join(h[:12] for h in approved) or 'nothing'}; refused")
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
                context: SendContext, stop: threading.Event) -> list[Outcome]:
    if stop.is_set():
        return [_released(d) for d in deliveries]
    transport = transport_for(deliveries[0].channel, settings)
    by_id = {d.id: d for d in deliveries}
    try:
        rate = channels.channel(deliveries[0].channel).rate(settings)
        results = _call_with_quick_retries(settings, transport, fields, targets, context, rate)
    except TransportError as exc:
        return [_failure(settings, d, exc) for d in deliveries]
    except Exception as exc:  # noqa: BLE001 - an SDK surprise: we cannot know whether it went out
        logger.exception("unexpected error sending %s", deliveries[0].channel)
        return [Outcome(d, "unknown", detail=f"unexpected error, not resent until reconciled: {exc!r}")
                for d in deliveries]
    return [_success(by_id[r.delivery_id], r) for r in results]


def _call_with_quick_retries(settings: Settings, transport: Transport, fields: dict[str, str],
                             targets: list[Target], context: SendContext, rate: str | None = None
                             ) -> list[SendResult]:
    def worth_retrying_now(exc: BaseException) -> bool:
        return (isinstance(exc, TransportError) and not exc.permanent
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


def _success(delivery: Delivery, result: SendResult) -> Outcome:
    return Outcome(delivery, result.status, provider_message_id=result.provider_message_id, detail=result.detail)


def _failure(settings: Settings, delivery: Delivery, exc: TransportError) -> Outcome:
    code = exc.code or ("permanent" if exc.permanent else "transient")
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
