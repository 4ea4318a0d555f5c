"""A chunk's fence: when its send threads must start no more (see `Fence`)."""

import threading
import time


class ClaimLapsed(Exception):
    """Raised instead of a provider call the fence stopped: its deliveries go back to the queue untried
    (the claim's, if it still holds; if the sweep took them meanwhile, reconciliation's)."""


class Fence:
    """When a chunk's sends must stop starting: its deadline or an interruption (`set`), or its
    claim's lease about to run out unrenewed. A worker starved of CPU (or cut off from the database)
    stops renewing, the sweep may then expire the lease, and reconciliation resend what the provider
    has not seen; a send thread waking after that must not send it too. So each provider call is
    started only while the lease, as last renewed, still has `MARGIN` to run (`lapsed`, checked in
    this process just before the call, with no round trip). An Event's `set`/`is_set` for the
    chunk's batches, so a deadline's timer can set it."""

    MARGIN = 1.0  # seconds (for clocks a little apart, and the call under way), at most a twentieth of the lease

    def __init__(self, lease_seconds: float):
        self._stopped = threading.Event()
        self._lease = lease_seconds
        self._margin = min(self.MARGIN, lease_seconds / 20)
        self.renewed(time.monotonic())

    def renewed(self, at: float) -> None:
        """The lease was renewed by a write begun at `at` (monotonic): it runs a lease from then."""
        self._valid_until = at + self._lease

    def set(self) -> None:
        self._stopped.set()

    def lapsed(self) -> bool:
        """The lease, as last renewed, has less than its margin to run: start no provider call.
        (A lease of 0, claims that expire at once as a test may set, leaves nothing to fence.)"""
        return self._lease > 0 and time.monotonic() > self._valid_until - self._margin

    def is_set(self) -> bool:
        """Start no more batches: the chunk stopped, or its lease lapsed."""
        return self._stopped.is_set() or self.lapsed()
