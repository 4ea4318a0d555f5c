"""Delivery statuses, grouped by what they mean.

    pending ─claim─▶ sending ─▶ sent / simulated ─(callback)─▶ delivered / bounced / undelivered
       ▲               │  └──▶ retry (backoff in the row) ─claim─▶ sending ...
       └───────────────┘  └──▶ failed;  a dead worker's lease expires ─▶ unknown ─reconcile─▶ sent / retry
    pending / retry ─(newer version, opt-out)─▶ cancelled
"""

UNSENT = ("pending", "retry")  # waiting for a claim
IN_FLIGHT = ("sending", "unknown")  # claimed; unknown: the worker died mid-call, to be reconciled
REACHED = ("sent", "simulated", "delivered")  # the target has it (or shows it)
FAILED = ("failed", "bounced", "undelivered")
CANCELLED = "cancelled"  # never goes: a newer version is live, or the recipient opted out
# States no provider callback may move a delivery out of (they arrive late and out of order).
TERMINAL = ("delivered", *FAILED, CANCELLED)
