"""Waiting out a disruption in the middle of a fan-out, as production would: beat sweeps once a
second, a supervisor restarts a worker that exited; and timing when sending resumed."""

import time
from collections.abc import Callable

from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.enqueue import enqueue_due
from tests.integration.engine import LIVE_SENT, UNCONFIGURED, Workers, settled, status_counts, wait_until  # noqa: F401


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
