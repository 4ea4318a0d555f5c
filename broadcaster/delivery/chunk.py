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
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import wait
from queue import SimpleQueue

from sqlalchemy import select

from .. import channels
from ..channels import SendContext, Target, transport_for
from ..config import Settings
from ..domain.hashing import sha256_of
from ..store.content import approved_hashes, stored_content_hash
from ..store.db import transaction
from ..store.models import Delivery, Rendition, Statement, Subscriber
from . import links
from .provider_calls import released
from .records import Outcome, claim, record
from .send_threads import Recorder, deadline, drain, lease_kept, next_outcomes, run_batches, send_pool

logger = logging.getLogger("broadcaster.sending")

SHOWN = ("sent", "simulated")  # a live surface's delivery in one of these shows that version

Enqueue = Callable[[Settings, list[int]], int]  # returns how many went on the broker




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
    recorder = Recorder(settings)
    stop = threading.Event()
    with lease_kept(settings, claimed), deadline(settings.chunk_seconds, stop):
        try:
            refused: list[Outcome] = []
            batches = list(_batches(settings, _group(claimed), refused))  # all of it before any send starts
        except BaseException:
            record(settings, [released(d) for d in claimed])
            raise
        recorder.add(refused)
        # The send threads take the batches one by one and hand back each batch's outcomes as it
        # finishes (one runner a thread, not one future a message: at a thousand SMS a chunk the
        # futures cost more than the bookkeeping).
        work, results = deque(batches), SimpleQueue()
        live = _LiveCheck(settings)
        pool = send_pool(settings.send_threads)
        runners = [pool.submit(run_batches, settings, work, results, stop, live)
                   for _ in range(min(settings.send_threads, len(batches)))]
        received = 0
        try:
            while received < len(batches):
                outcomes = next_outcomes(results)
                received += 1  # counted before recording: an outcome taken off the queue is never lost
                recorder.add(outcomes)
        finally:
            # Also when interrupted (the task's time limit, a failed write): start nothing more (what
            # is left is released), let the sends in flight finish, and record every one.
            stop.set()
            wait(runners)
            recorder.take_all(drain(results))
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














def send_now(settings: Settings, delivery_ids: list[int]) -> None:
    """Send in this process, no broker (tests and tools)."""
    for start in range(0, len(delivery_ids), settings.send_chunk_size):
        send_chunk(settings, delivery_ids[start:start + settings.send_chunk_size])
