"""Claim → check → send → record, a chunk of deliveries at a time; and the sweep.

- A delivery is sent only by whoever **claims** it: one conditional UPDATE moves it
  pending/retry → sending, attempt + 1, with a lease. The claim commits before any
  provider call, so a worker that dies mid-call leaves a ``sending`` row whose lease
  expires, never a silent gap; and a redelivered task finds nothing left to claim.
- Before the call the stored renditions are **re-hashed** against the approval: a row
  edited behind the app's back is refused and logged, not sent.
- The call runs inside **tenacity** for blips (connection errors, 5xx, 429 with a short
  Retry-After). Once that budget is spent the delivery goes to ``retry`` with an
  exponential backoff and jitter stored in the row; the **sweep** picks it up when due.
  Long waits live in the row, never in a broker ETA (Redis redelivers long ETAs twice).
- A shared **rate limiter** (the `limits` library; Redis when the broker is Redis) keeps
  the whole fleet at each provider account's rate.
"""

import logging
import os
import random
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache

from sqlalchemy import bindparam, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, selectinload
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from . import links, metrics
from .background import every
from .channels import SendContext, SendResult, Target, Transport, TransportError, transport_for
from .config import Settings
from .domain.hashing import sha256_of
from .store.content import approved_hashes, stored_content_hash
from .store.db import transaction
from .store.models import Delivery, DeliveryEvent, Rendition, Statement, UTCDateTime, utcnow

logger = logging.getLogger("broadcaster.sending")

# Delivery statuses by what they mean; "sending" and "unknown" are in flight, "cancelled" never goes.
UNSENT = ("pending", "retry")
DONE = ("sent", "simulated", "delivered")
FAILED = ("failed", "bounced", "undelivered")
RELEASED = "not sent: the chunk ran out of time; back in the queue"

Enqueue = Callable[[Settings, list[int]], int]  # returns how many went on the broker


def event_for(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None) -> DeliveryEvent:
    return DeliveryEvent(**_event_row(delivery, status, detail, content_hash))


def log_current_state(s: Session, where, detail: str = "") -> None:
    """Append one send-log line per delivery matching `where`, copying its state as it now is.
    One INSERT ... SELECT in the database: a chunk of a thousand never becomes Python objects."""
    s.execute(insert(DeliveryEvent.__table__).from_select(
        ["delivery_id", "statement_id", "channel", "target", "provider", "status", "attempt",
         "provider_message_id", "detail", "created_at"],
        select(Delivery.id, Delivery.statement_id, Delivery.channel, Delivery.target, Delivery.provider,
               Delivery.status, Delivery.attempts, Delivery.provider_message_id, literal(detail),
               literal(utcnow(), UTCDateTime())).where(where)))


def _event_row(delivery: Delivery, status: str, detail: str = "", content_hash: str | None = None,
               **overrides) -> dict:
    return {"delivery_id": delivery.id, "statement_id": delivery.statement_id, "channel": delivery.channel,
            "target": delivery.target, "provider": delivery.provider, "status": status,
            "attempt": delivery.attempts, "provider_message_id": delivery.provider_message_id,
            "content_hash": content_hash, "detail": detail, "created_at": utcnow(), **overrides}


def cancel_unsent(s: Session, which, why: str) -> int:
    """What has not gone out yet of the deliveries matching `which` never will (a newer version
    is live, or the recipient opted out)."""
    rows = s.scalars(select(Delivery).where(which, Delivery.status.in_(UNSENT))
                     .order_by(Delivery.id).with_for_update()).all()
    for delivery in rows:
        delivery.status = "cancelled"
        s.add(event_for(delivery, "cancelled", why))
    return len(rows)


# --- one chunk ------------------------------------------------------------------------------


@dataclass
class Outcome:
    delivery: Delivery
    status: str
    provider_message_id: str | None = None
    error_code: str | None = None
    detail: str = ""
    next_attempt_at: datetime | None = None
    attempted: bool = True  # False: released untried, so its claim does not count as an attempt


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
        sends = [(batch, pool.submit(_send_batch, settings, batch, fields, context, stop))
                 for batch, fields, context in batches]
        try:
            wait([future for _, future in sends])
        finally:
            # Also when interrupted (the task's time limit): start nothing more, let the sends in
            # flight finish, and record every one before giving up.
            stop.set()
            wait([future for _, future in sends])
            outcomes.extend(_outcomes_of(sends))
            record(settings, outcomes)
    released = [o.delivery.id for o in outcomes if not o.attempted]
    if released and requeue:
        requeue(settings, released)
    tally: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        tally[outcome.status] += 1
    return dict(tally)


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


def claim(settings: Settings, delivery_ids: list[int]) -> list[Delivery]:
    """Deliveries this worker now owns (status sending, lease set), with their statements loaded."""
    now = utcnow()
    with transaction(settings.database_url) as s:
        ids = s.scalars(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status.in_(UNSENT),
                   or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .values(status="sending", attempts=Delivery.attempts + 1, updated_at=now,
                    lease_until=now + timedelta(seconds=settings.lease_seconds))
            .returning(Delivery.id),
        ).all()
        if not ids:
            return []
        deliveries = s.scalars(
            select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id)
            .options(selectinload(Delivery.statement).selectinload(Statement.renditions),
                     selectinload(Delivery.statement).selectinload(Statement.approvals),
                     selectinload(Delivery.statement).selectinload(Statement.incident))
        ).all()
        log_current_state(s, Delivery.id.in_(ids))
        return list(deliveries)


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
    """(deliveries, approved fields, context) per provider call; refused groups go straight to outcomes."""
    for (_statement_id, channel), deliveries in groups.items():
        statement = deliveries[0].statement
        rendition = next(r for r in statement.renditions if r.channel == channel)
        problem = _tampering(statement, rendition)
        if problem:
            logger.error("refusing to send statement %s on %s: %s", statement.id, channel, problem)
            outcomes.extend(Outcome(d, "failed", error_code="tampered", detail=problem) for d in deliveries)
            continue
        context = _context(settings, statement, channel)
        size = transport_for(channel, settings).batch_size
        for start in range(0, len(deliveries), size):
            yield deliveries[start:start + size], dict(rendition.fields), context


def _tampering(statement: Statement, rendition: Rendition) -> str | None:
    """Why the stored words are not the approved words, or None if they are."""
    hash_now, approved = stored_content_hash(statement), approved_hashes(statement)
    if hash_now not in approved or sha256_of(rendition.fields) != rendition.content_hash:
        return (f"stored {rendition.channel} rendition no longer matches the approval: content hashes to "
                f"{hash_now[:12]}, approved {', '.join(h[:12] for h in approved) or 'nothing'}; refused")
    return None


def _context(settings: Settings, statement: Statement, channel: str) -> SendContext:
    return SendContext(statement_id=statement.id, incident_id=statement.incident_id, version=statement.version,
                       reply_to=_previous_post(settings, statement) if channel == "x" else None)


def _previous_post(settings: Settings, statement: Statement) -> str | None:
    """Later updates of one incident are posted as replies to the previous post: a thread."""
    with transaction(settings.database_url) as s:
        return s.scalar(
            select(Delivery.provider_message_id).join(Statement, Statement.id == Delivery.statement_id)
            .where(Statement.incident_id == statement.incident_id, Statement.version < statement.version,
                   Delivery.channel == "x", Delivery.status == "sent", Delivery.provider == "x")
            .order_by(Statement.version.desc()).limit(1))


def _send_batch(settings: Settings, deliveries: list[Delivery], fields: dict[str, str],
                context: SendContext, stop: threading.Event) -> list[Outcome]:
    if stop.is_set():
        return [_released(d) for d in deliveries]
    transport = transport_for(deliveries[0].channel, settings)
    targets = [Target(d.id, d.target, links.unsubscribe_url(settings, d.id), links.status_callback_url(settings, d.id))
               for d in deliveries]
    by_id = {d.id: d for d in deliveries}
    try:
        results = _call_with_quick_retries(settings, transport, fields, targets, context)
    except TransportError as exc:
        return [_failure(settings, d, exc) for d in deliveries]
    except Exception as exc:  # noqa: BLE001 - an SDK surprise: we cannot know whether it went out
        logger.exception("unexpected error sending %s", deliveries[0].channel)
        return [Outcome(d, "unknown", detail=f"unexpected error, not resent until reconciled: {exc!r}")
                for d in deliveries]
    return [_success(by_id[r.delivery_id], r) for r in results]


def _call_with_quick_retries(settings: Settings, transport: Transport, fields: dict[str, str],
                             targets: list[Target], context: SendContext) -> list[SendResult]:
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
            limiter_wait(settings, transport, cost=len(targets) if transport.batch_size == 1 else 1)
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
        return Outcome(delivery, "failed", error_code=code, detail=f"{code}: {exc}")
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


def record(settings: Settings, outcomes: list[Outcome], claimed_as: str = "sending") -> None:
    """Write every outcome and its log line; one transaction per few hundred rows. Only rows still
    in `claimed_as` change: a provider callback (delivered, bounced) that landed first stays."""
    table = Delivery.__table__
    move = (update(table).where(table.c.id == bindparam("b_id"), table.c.status == claimed_as)
            .values(status=bindparam("b_status"), lease_until=None, updated_at=bindparam("b_now"),
                    attempts=table.c.attempts - bindparam("b_undo"),
                    provider_message_id=func.coalesce(bindparam("b_message_id"), table.c.provider_message_id),
                    error_code=bindparam("b_code"), error_message=bindparam("b_error"),
                    next_attempt_at=bindparam("b_next")))
    for start in range(0, len(outcomes), 500):
        part = outcomes[start:start + 500]
        with transaction(settings.database_url) as s:
            now = utcnow()
            s.execute(move, [
                {"b_id": o.delivery.id, "b_status": o.status, "b_now": now, "b_message_id": o.provider_message_id,
                 "b_undo": 0 if o.attempted else 1,
                 "b_code": o.error_code, "b_error": o.detail if o.error_code else None,
                 "b_next": o.next_attempt_at}
                for o in part])
            s.execute(insert(DeliveryEvent.__table__), [
                _event_row(o.delivery, o.status, o.detail, provider_message_id=o.provider_message_id,
                           attempt=o.delivery.attempts - (not o.attempted))
                for o in part])
        for o in part:
            metrics.count_delivery(o.delivery.channel, o.delivery.provider, o.status)


# --- the shared rate limiter ------------------------------------------------------------


# A Redis host that goes away must fail a send (it is retried), not hang its thread for ever.
# TCP keepalive finds a dead peer in about 11 s at no cost per command; a read timeout
# (socket_timeout) would put a poll() before every read, a fifth of the limiter's CPU.
_REDIS_TIMEOUTS = {"socket_connect_timeout": 5, "socket_keepalive": True, "socket_keepalive_options": {
    socket.TCP_KEEPIDLE: 5, socket.TCP_KEEPINTVL: 2, socket.TCP_KEEPCNT: 3}}


@lru_cache(maxsize=4)
def _limiter(storage_uri: str):
    from limits.storage import storage_from_string
    from limits.strategies import SlidingWindowCounterRateLimiter

    # Two counters a key, whatever the rate: a moving window keeps one entry per request, and
    # at thousands a second its bookkeeping on Redis would cost more than the sends.
    options = _REDIS_TIMEOUTS if storage_uri.startswith("redis") else {}
    return SlidingWindowCounterRateLimiter(storage_from_string(storage_uri, **options))


@lru_cache(maxsize=16)
def _parsed(rate: str):
    """A rate such as "100/second" as a `limits` item: the hard cap itself (the pace keeps grants
    under it), and the interval between two requests at exactly that rate."""
    from limits import parse

    return parse(rate)


def _rate_for(settings: Settings, provider: str) -> str | None:
    return {"twilio": settings.twilio_rate, "sendgrid": settings.sendgrid_rate, "x": settings.x_rate}.get(provider)


class _LocalPacer:
    """Spaces one process's sends (the embedded default has no shared store)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0

    def delay(self, interval: float) -> float:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at)
            self.next_at = at + interval
        return at - now


# The next free slot, fleet-wide, on Redis' own clock; returns how long the caller must wait.
_NEXT_SLOT = """
local now_s, now_us = unpack(redis.call('TIME'))
local now = tonumber(now_s) + tonumber(now_us) / 1000000
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], tostring(at + tonumber(ARGV[1])), 'EX', 3600)
return tostring(at - now)
"""


@lru_cache(maxsize=4)
def _redis_pacer(url: str):
    import redis

    return redis.Redis.from_url(url, **_REDIS_TIMEOUTS).register_script(_NEXT_SLOT)


_local_pacers: dict[tuple[str, str], _LocalPacer] = defaultdict(_LocalPacer)


def _pace(settings: Settings, transport: Transport, interval: float) -> None:
    """Space grants evenly, one per interval across the whole fleet. The shared window alone lets
    every waiting worker go the instant a slot frees; those bursts arrive at the provider as more
    than the rate in some second (429s). Paced, requests arrive evenly."""
    if settings.broker_url.startswith("redis"):
        key = f"broadcaster:pace:{transport.provider}:{transport.account}"
        wait = float(_redis_pacer(settings.broker_url)(keys=[key], args=[interval]))
    else:
        wait = _local_pacers[(transport.provider, transport.account)].delay(interval)
    if wait > 0:
        time.sleep(wait)


def limiter_wait(settings: Settings, transport: Transport, cost: int = 1) -> None:
    """Block until the provider account has room for `cost` more requests, fleet-wide: paced
    grants, and a `limits` sliding window as the hard cap."""
    rate = _rate_for(settings, transport.provider)
    if rate is None:
        return
    cap = _parsed(rate)
    storage = settings.broker_url if settings.broker_url.startswith("redis") else "memory://"
    limiter = _limiter(storage)
    try:
        _pace(settings, transport, cost * cap.get_expiry() / cap.amount / (1 - settings.rate_headroom))
        while not limiter.hit(cap, transport.provider, transport.account, cost=cost):
            reset_at = limiter.get_window_stats(cap, transport.provider, transport.account).reset_time
            time.sleep(min(max(reset_at - time.time(), 0.001), 1.0))
    except Exception as exc:  # noqa: BLE001 - the limiter's Redis is down: wait, never send unthrottled
        raise TransportError(f"rate limiter unavailable: {exc}", code="limiter") from exc


# --- the sweep and reconciliation --------------------------------------------------------


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
        if getattr(transport, "idempotent", False):
            outcomes.append(Outcome(delivery, "retry", detail="resending: this surface is idempotent"))
        elif hasattr(transport, "find_sent"):
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


def requeue(settings: Settings, statement_id: int, statuses: tuple[str, ...], actor: str) -> list[int]:
    """An operator's decision to resend failed or unknown deliveries of a statement."""
    now = utcnow()
    with transaction(settings.database_url) as s:
        rows = s.scalars(select(Delivery).where(Delivery.statement_id == statement_id,
                                                Delivery.status.in_(statuses)).with_for_update()).all()
        for delivery in rows:
            delivery.status, delivery.next_attempt_at, delivery.updated_at = "pending", None, now
            s.add(event_for(delivery, "pending", f"requeued by {actor}"))
        return [d.id for d in rows]


def send_now(settings: Settings, delivery_ids: list[int]) -> None:
    """Send in this process, no broker (tests and tools)."""
    for start in range(0, len(delivery_ids), settings.send_chunk_size):
        send_chunk(settings, delivery_ids[start:start + settings.send_chunk_size])


def progress(settings: Settings, statement_id: int) -> dict[str, dict[str, int]]:
    """{channel: {status: count}} for one statement's deliveries."""
    with transaction(settings.database_url) as s:
        rows = s.execute(select(Delivery.channel, Delivery.status, func.count())
                         .where(Delivery.statement_id == statement_id)
                         .group_by(Delivery.channel, Delivery.status)).all()
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, status, count in rows:
        result[channel][status] = count
    return dict(result)
