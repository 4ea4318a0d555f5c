"""Waiting out a disruption in the middle of a fan-out, as production would: beat sweeps once a
second, a supervisor restarts a worker that exited; and timing when sending resumed."""

import contextlib
import time
from collections.abc import Callable, Iterator

from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.enqueue import enqueue, enqueue_due
from broadcaster.incidents import publishing
from tests.conftest import actor
from tests.integration.engine import (  # noqa: F401 - LIVE_SENT, UNCONFIGURED: the failover tests' counts
    LIVE_SENT,
    UNCONFIGURED,
    Workers,
    add_subscribers,
    approved_statement,
    as_env,
    settled,
    status_counts,
    wait_until,
)

# A leased claim given up after 4 s, beat sweeping every second, retries within a couple of seconds: a
# disruption's aftermath in seconds, not the production minutes.
QUICK_RECOVERY = {"lease_seconds": 4, "sweep_interval_seconds": 1, "backoff_base_seconds": 0.5,
                  "backoff_cap_seconds": 2, "quick_retries": 2, "quick_retry_max_wait_seconds": 1}


@contextlib.contextmanager
def fan_out_under_way(settings, values: dict, fake, logs, recipients: int, poll: float = 0.1
                      ) -> Iterator[tuple[Workers, int, Callable[[], int]]]:
    """The moment every failover test breaks something: `recipients` SMS subscribers, one worker of two
    processes, an approved statement published through the broker, and a fifth of its fan-out sent.
    Yields the workers, the statement's id and a count of the SMS the provider has taken; the workers
    are stopped on the way out."""
    pool = Workers(as_env(values), logs)
    try:
        add_subscribers(settings, recipients, email=False)
        pool.start(concurrency=2)
        sid = approved_statement(settings)
        publishing.publish(settings, actor(settings, "alice"), sid, dispatch=enqueue)

        def sent() -> int:
            return fake.totals()["sms"]

        wait_until(lambda: sent() >= recipients // 5, 60, "a fifth of the fan-out", poll=poll)
        yield pool, sid, sent
    finally:
        pool.stop_all()


def sent_exactly_once(sms: dict[str, int], recipients: int) -> None:
    """Every recipient got one SMS (`sms`: the fake provider's count per number): none lost, none doubled."""
    twice = sorted(to for to, n in sms.items() if n > 1)
    assert len(sms) == recipients and not twice, (len(sms), twice[:5])


def until_settled(settings, statement_id: int, sent: Callable[[], int], pool: Workers, disrupted_at: float,
                  timeout: float = 240) -> tuple[float, float]:
    """Wait for the fan-out to settle; returns (seconds from the disruption until the provider
    received a message again, seconds until the fan-out settled)."""
    before, resumed, last_sweep = sent(), [], 0.0

    def finished() -> bool:
        nonlocal last_sweep
        if not resumed and sent() > before:
            resumed.append(time.monotonic() - disrupted_at)
        pool.restart_dead()  # what compose's `restart: unless-stopped` does for a worker that gave up
        if time.monotonic() - last_sweep >= 1:
            last_sweep = time.monotonic()
            try:
                sweeping.sweep(settings, enqueue_due)  # what beat does every interval
            except Exception:  # noqa: BLE001 - the broker is not back yet: beat goes on, so do we
                pass
        return settled(settings, statement_id)

    try:
        wait_until(finished, timeout, "the fan-out to finish", poll=0.25)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: resumed after {resumed or 'never'} s; deliveries "
                             f"{status_counts(settings, statement_id)}; provider got {sent()}\n"
                             f"{pool.log_tail()}") from None
    return (resumed[0] if resumed else float("nan")), time.monotonic() - disrupted_at
