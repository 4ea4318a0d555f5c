"""One provider call for a batch of deliveries, and what its answer means for each: inside
tenacity, retried at once only for errors that prove nothing was sent; an ambiguous answer makes
the delivery `unknown` (reconciled, never resent blindly); refused credentials pause the channel;
otherwise `retry` with backoff and jitter stored in the row, up to the most attempts, then `failed`."""

import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from .. import channels
from ..channels import SendContext, SendResult, Target, Transport, TransportError, transport_for
from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..store.models import utcnow
from . import metrics
from . import pause as pausing
from .claimed import ClaimedDelivery
from .lease_fence import ClaimLapsed, Fence
from .ratelimit import limiter_wait
from .records import STALE, VOID, Outcome

logger = logging.getLogger("broadcaster.sending")


def send_batch(settings: Settings, deliveries: list[ClaimedDelivery], targets: list[Target], fields: dict[str, str],
               context: SendContext, stop: Fence, wanted: Callable[[ClaimedDelivery], bool] | None = None
               ) -> list[Outcome]:
    if stop.is_set():
        return [released(d) for d in deliveries]
    if wanted is not None and not wanted(deliveries[0]):  # a batch is one statement's or one message's
        why = VOID if deliveries[0].message_id else STALE
        return [Outcome(d, DeliveryStatus.CANCELLED, detail=why, attempted=False) for d in deliveries]
    name = deliveries[0].channel
    waiting = pausing.held_back(settings, name)
    if waiting:
        return [paused_outcome(settings, d, waiting) for d in deliveries]
    transport = transport_for(name, settings)
    by_id = {d.id: d for d in deliveries}
    try:
        rate = channels.rate_for(name, settings)
        results = call_with_quick_retries(settings, transport, fields, targets, context, rate, fence=stop)
    except ClaimLapsed:  # not sent: back to the queue at once (a live surface must not wait out a backoff)
        return [released(d) for d in deliveries]
    except TransportError as exc:
        if exc.credentials:
            pausing.pause(settings, name, str(exc))
        outcomes = [failure_outcome(settings, d, exc) for d in deliveries]
        if exc.ambiguous and len(deliveries) > 1:  # the exact batch an operator checks with the provider
            note = f" [one provider batch of {len(deliveries)}: delivery ids {deliveries[0].id}..{deliveries[-1].id}]"
            for outcome in outcomes:
                outcome.detail += note
        return outcomes
    except Exception as exc:  # noqa: BLE001 - an SDK surprise: we cannot know whether it went out
        logger.exception("unexpected error sending %s", name)
        return [Outcome(d, DeliveryStatus.UNKNOWN, detail=f"unexpected error, not resent until reconciled: {exc!r}")
                for d in deliveries]
    if transport.provider != "log":
        pausing.resume_if_paused(settings, name)
    return [success_outcome(settings, by_id[r.delivery_id], r) for r in results]


def paused_outcome(settings: Settings, delivery: ClaimedDelivery, why: str) -> Outcome:
    """Waits for the channel's credentials to work again; the attempt is not counted."""
    return Outcome(delivery, DeliveryStatus.RETRY, error_code="paused", detail=f"{why}; waiting, not failed",
                   next_attempt_at=pausing.retry_at(settings), attempted=False)


def call_with_quick_retries(settings: Settings, transport: Transport, fields: dict[str, str],
                             targets: list[Target], context: SendContext, rate: str | None = None,
                             fence: Fence | None = None) -> list[SendResult]:
    """The provider call, retried at once after a blip that proves nothing went out. Started only
    while the claim's lease holds (`fence`, lease_fence.py: else ClaimLapsed): checked after the rate
    limiter's wait, the last moment before the call."""
    def worth_retrying_now(exc: BaseException) -> bool:
        # Only an error proving nothing was sent: an ambiguous one may have reached the customer;
        # one that never reached the provider (our own budget) waits in its row, not in this thread.
        return (isinstance(exc, TransportError) and not (exc.permanent or exc.ambiguous or exc.credentials)
                and exc.attempted
                and (exc.retry_after or 0) <= settings.quick_retry_max_wait_seconds)

    backoff = wait_exponential_jitter(multiplier=0.2, max=settings.quick_retry_max_wait_seconds)

    def wait_after(exc: BaseException | None, attempt_number: int) -> float:
        hint = getattr(exc, "retry_after", None)
        return hint if hint is not None else backoff(SimpleNamespace(attempt_number=attempt_number))

    def once() -> list[SendResult]:
        limiter_wait(settings, transport, rate, cost=len(targets) if transport.batch_size == 1 else 1)
        if fence is not None and fence.lapsed():
            raise ClaimLapsed()
        started = time.perf_counter()
        try:
            return transport.notify(fields, targets, context)
        finally:
            metrics.observe_latency(transport.provider, time.perf_counter() - started)

    # The first try outside tenacity: almost every call works, and building tenacity's machinery for
    # each of a fan-out's SMS was a thirtieth of a send's CPU. Only a blip that proves nothing went
    # goes on to the retries, each after the wait tenacity would have made.
    try:
        return once()
    except Exception as exc:
        if settings.quick_retries < 2 or not worth_retrying_now(exc):
            raise
        time.sleep(wait_after(exc, 1))
    for attempt in Retrying(retry=retry_if_exception(worth_retrying_now), reraise=True,
                            wait=lambda state: wait_after(state.outcome.exception(), state.attempt_number + 1),
                            stop=stop_after_attempt(settings.quick_retries - 1)):
        with attempt:
            return once()
    raise AssertionError("unreachable: tenacity reraises")


def success_outcome(settings: Settings, delivery: ClaimedDelivery, result: SendResult) -> Outcome:
    if result.error is not None:  # this target's part of a batch that partly went out
        return failure_outcome(settings, delivery, result.error)
    return Outcome(delivery, result.status, provider_message_id=result.provider_message_id, detail=result.detail)


def failure_outcome(settings: Settings, delivery: ClaimedDelivery, exc: TransportError) -> Outcome:
    code = exc.code or ("permanent" if exc.permanent else "transient")
    if exc.credentials:
        return paused_outcome(settings, delivery, f"channel {delivery.channel} is paused: {exc}")
    if exc.ambiguous:
        return Outcome(delivery, DeliveryStatus.UNKNOWN, error_code=code,
                       detail=f"{code}: {exc}; it may have gone out: reconciled before any resend")
    if not exc.attempted:  # never reached the provider: wait in the row (the sweep brings it back), no attempt spent
        delay = exc.retry_after or settings.backoff_base_seconds
        return Outcome(delivery, DeliveryStatus.RETRY, error_code=code,
                       next_attempt_at=utcnow() + timedelta(seconds=delay),
                       detail=f"{code}: {exc}; not sent, next try in {delay:.1f} s", attempted=False)
    if exc.permanent:
        return Outcome(delivery, DeliveryStatus.FAILED, error_code=code, detail=f"{code}: {exc}",
                       opted_out=exc.opted_out)
    if delivery.attempts >= settings.max_attempts:
        return Outcome(delivery, DeliveryStatus.FAILED, error_code=code,
                       detail=f"gave up after {delivery.attempts} attempts; last error {code}: {exc}")
    delay = backoff_seconds(settings, delivery.attempts, exc.retry_after)
    return Outcome(delivery, DeliveryStatus.RETRY, error_code=code, next_attempt_at=utcnow() + timedelta(seconds=delay),
                   detail=f"{code}: {exc}; next attempt in {delay:.0f} s")


def backoff_seconds(settings: Settings, attempts: int, retry_after: float | None = None) -> float:
    """Exponential, capped, with jitter so a thousand retries do not land in the same second."""
    ceiling = min(settings.backoff_cap_seconds, settings.backoff_base_seconds * 2 ** max(attempts - 1, 0))
    return max(random.uniform(ceiling / 2, ceiling), retry_after or 0)


RELEASED = "not sent: the chunk ran out of time; back in the queue"


def released(delivery: ClaimedDelivery) -> Outcome:
    return Outcome(delivery, DeliveryStatus.PENDING, detail=RELEASED, attempted=False)
