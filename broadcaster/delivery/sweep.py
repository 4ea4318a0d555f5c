"""The sweep (beat's periodic job) and reconciliation; an operator's resend.

The broker is only the wake-up call: whatever it lost is found here, in the database.
Reconciliation asks providers about deliveries whose outcome is unknown, before anything is
resent. It is bounded (`reconcile_seconds`), parallel (`reconcile_threads`), works in slices
(`reconcile_slice`), runs one at a time across the fleet (a Redis lock) and, on workers, on a
queue of its own (`reconcile`), so slow provider lists never delay the live queue.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import channels
from ..channels import Reconcilable, Target, TransportError, transport_for
from ..channels.log import LOG_PROVIDER
from ..config import Settings
from ..domain.delivery_status import UNSENT, DeliveryStatus, Move, sources
from ..store.db import one_of, transaction
from ..store.models import Delivery, DeliveryEvent, Statement, utcnow
from ..store.redis_clients import redis_client, shared_redis_url
from . import fanout, records
from .batches import statement_words, words_of
from .dispatch import Dispatch
from .enqueue import enqueue_fan_outs
from .records import CANCELLED_UNKNOWN, Outcome, record, still_wanted

logger = logging.getLogger("broadcaster.sweep")
LEASE_EXPIRED = "lease expired: the worker died during the provider call"


def sweep(settings: Settings, enqueue: Dispatch,
          reconciler: Callable[[Settings], object] | None = None,
          resume_fan_outs: Callable[[Settings, list[int]], object] = enqueue_fan_outs) -> dict[str, int]:
    """Beat's periodic job: expired leases → unknown, hand stalled fan-outs to a worker again,
    re-enqueue what is due, then reconcile unknowns (inline, or handed to `reconciler`: the
    workers put it on the `reconcile` queue)."""
    expired = expire_leases(settings)
    stalled = fanout.stalled(settings)
    if stalled:
        resume_fan_outs(settings, stalled)
    due = due_deliveries(settings)
    requeued = enqueue(settings, due) if due else 0
    if reconciler is not None:
        reconciler(settings)
        reconciled = 0
    else:
        reconciled = reconcile(settings).get("reconciled", 0)
    # Left: pending rows behind a backlog (most likely in it), or a broker that is down.
    return {"expired": expired, "fan-outs resumed": len(stalled), "reconciled": reconciled, "requeued": requeued,
            "left for later": len(due) - requeued}


def expire_leases(settings: Settings) -> int:
    """A `sending` row whose lease ran out belongs to a dead worker: unknown, to be reconciled."""
    with transaction(settings.database_url) as s:
        return records.expire_leases(s, LEASE_EXPIRED)


_local_lock = threading.Lock()


def _fleet_lock(settings: Settings):
    """One reconciliation at a time across every worker (a Redis lock with a timeout, so a
    killed holder frees it), or in this process for the embedded default."""
    if shared_redis_url(settings):
        return redis_client(settings).lock("broadcaster:reconcile", timeout=settings.reconcile_seconds + 30,
                                           blocking=False)
    return _local_lock


def reconcile(settings: Settings) -> dict[str, int]:
    """Decide unknown deliveries before any resend: sending one SMS twice is worse than late.
    Idempotent surfaces are simply retried; providers that can list what they sent (Twilio, X)
    are asked; the rest (email) wait for an operator, with their batch in the send log
    (`broadcaster log --status unknown`, then `broadcaster retry --unknown`).
    Returns {"reconciled": n} or {"skipped": 1} when another sweep is reconciling."""
    lock = _fleet_lock(settings)
    if not lock.acquire(blocking=False):
        return {"reconciled": 0, "skipped": 1}
    try:
        return {"reconciled": _reconcile_slices(settings)}
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - the Redis lock timed out first: nothing left to free
            logger.warning("the reconcile lock had already expired")


def _reconcile_slices(settings: Settings) -> int:
    deadline = time.monotonic() + settings.reconcile_seconds
    askable = _askable_channels(settings)
    if not askable:
        return 0
    after = 0  # slices in id order: a row left undecided is not asked again in this run
    done = 0
    with ThreadPoolExecutor(settings.reconcile_threads, thread_name_prefix="reconcile") as pool:
        while time.monotonic() < deadline:
            rows, first_claims = _next_slice(settings, askable, after)
            if not rows:
                break
            after = rows[-1].id
            decided = [o for o in pool.map(lambda d, first=first_claims: _decide(settings, d, first, deadline), rows)
                       if o]
            for held_as in (DeliveryStatus.UNKNOWN, DeliveryStatus.CANCELLED):
                done += record(settings, [o for o in decided if o.held_as == held_as], claimed_as=held_as)
    return done


def _askable_channels(settings: Settings) -> list[str]:
    return [ch.name for ch in channels.all_channels()
            if ch.idempotent or isinstance(transport_for(ch.name, settings), Reconcilable)]


def _next_slice(settings: Settings, askable: list[str], after: int):
    """The next slice of undecided rows: unknown ones, and unknown ones a newer version cancelled
    (never resent, but the log must say `sent` if they went out)."""
    with transaction(settings.database_url) as s:
        rows = s.scalars(
            select(Delivery).where(
                Delivery.channel.in_(askable), Delivery.id > after,
                or_(Delivery.status == DeliveryStatus.UNKNOWN,
                    and_(Delivery.status == DeliveryStatus.CANCELLED, Delivery.error_code == CANCELLED_UNKNOWN)))
            .order_by(Delivery.id).limit(settings.reconcile_slice)
            .options(selectinload(Delivery.statement).selectinload(Statement.renditions),
                     selectinload(Delivery.message))).all()
        first_claims = dict(s.execute(
            select(DeliveryEvent.delivery_id, func.min(DeliveryEvent.created_at))
            .where(one_of(s, DeliveryEvent.delivery_id, [d.id for d in rows]),
                   DeliveryEvent.status == DeliveryStatus.SENDING)
            .group_by(DeliveryEvent.delivery_id)).all()) if rows else {}
        wanted = set(s.scalars(select(Delivery.id).where(one_of(s, Delivery.id, [d.id for d in rows]),
                                                         still_wanted(utcnow())))) if rows else set()
    for d in rows:
        d.live = d.id in wanted
    return rows, first_claims


def _decide(settings: Settings, delivery: Delivery, first_claims: dict, deadline: float) -> Outcome | None:
    if time.monotonic() >= deadline:
        return None
    held_as = DeliveryStatus(delivery.status)
    if channels.channel(delivery.channel).idempotent:
        outcome = (Outcome(delivery, DeliveryStatus.RETRY, detail="resending: this surface is idempotent")
                   if delivery.live else
                   Outcome(delivery, DeliveryStatus.CANCELLED, detail="not resent: a newer version is live"))
    else:
        outcome = _ask_provider(settings, transport_for(delivery.channel, settings), delivery,
                                first_claims.get(delivery.id) or delivery.created_at)
    if outcome is None:
        return None
    if outcome.status == DeliveryStatus.RETRY and (held_as == DeliveryStatus.CANCELLED or not delivery.live):
        outcome = Outcome(delivery, DeliveryStatus.CANCELLED,
                          detail="reconciled: the provider never got it; not resent, a newer version is live"
                          if delivery.statement_id else "reconciled: the provider never got it; not resent, void")
    outcome.held_as = held_as
    return outcome


def _ask_provider(settings: Settings, transport, delivery: Delivery, first_claimed_at: datetime) -> Outcome | None:
    """Has the provider got this message since we first tried? The margin covers clock skew
    between us and the provider; the body must match exactly: the words in the delivery's language (a
    follow-up's own), a message's with its secrets filled in."""
    if delivery.message_id:
        fields = words_of(settings, delivery, simulated=transport.provider == LOG_PROVIDER)
    else:
        _, fields = statement_words(delivery.statement, delivery.channel, delivery.locale, delivery.follow_up)
    since = (first_claimed_at - timedelta(seconds=60)).isoformat()
    try:
        sid = transport.find_sent(fields, Target(delivery.id, delivery.target), since)
    except TransportError as exc:
        logger.warning("cannot reconcile delivery %s yet: %s", delivery.id, exc)
        return None
    if sid:
        return Outcome(delivery, DeliveryStatus.SENT, provider_message_id=sid, detail="reconciled: the provider has it")
    return Outcome(delivery, DeliveryStatus.RETRY, detail="reconciled: the provider never got it; resending")


def due_deliveries(settings: Settings, limit: int = 100_000) -> list[int]:
    """Due rows of live statements and valid messages: every due `retry` row (never on the broker),
    and `pending` rows not touched in the last sweep interval (fresh ones are already on the broker)."""
    now = utcnow()
    quiet_since = now - timedelta(seconds=settings.sweep_interval_seconds)
    with transaction(settings.database_url) as s:
        return list(s.scalars(
            select(Delivery.id).where(
                Delivery.status.in_(UNSENT), still_wanted(now),
                or_(Delivery.status == DeliveryStatus.RETRY, Delivery.updated_at < quiet_since),
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .order_by(Delivery.id).limit(limit)))


def reset_for_resend(settings: Settings, statement_id: int, statuses: tuple[str, ...], actor: str) -> list[int]:
    """An operator's decision to resend failed or unknown deliveries of a statement."""
    with transaction(settings.database_url) as s:
        again = [status for status in statuses if status in sources(Move.REQUEUE)]
        rows = s.scalars(select(Delivery).where(Delivery.statement_id == statement_id, Delivery.status.in_(again))
                         .order_by(Delivery.id).with_for_update()).all()
        return records.requeue(s, list(rows), f"requeued by {actor}")
