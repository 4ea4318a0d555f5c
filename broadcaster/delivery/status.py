"""Delivery statuses, grouped by what they mean.

    (preparing: a fan-out has not written the row yet; only progress reports count it)

    pending ─claim─▶ sending ─▶ sent / simulated ─(callback)─▶ delivered / bounced / undelivered
       ▲               │  └──▶ retry (backoff in the row) ─claim─▶ sending ...
       └───────────────┘  └──▶ failed;  a dead worker's lease expires ─▶ unknown ─reconcile─▶ sent / retry
    pending / retry ─(newer version, opt-out)─▶ cancelled
"""

PREPARING = "preparing"  # not a row's status: subscribers a running fan-out has still to write
UNSENT = ("pending", "retry")  # waiting for a claim
IN_FLIGHT = ("sending", "unknown")  # claimed; unknown: the worker died mid-call, to be reconciled
REACHED = ("sent", "simulated", "delivered")  # the target has it (or shows it)
FAILED = ("failed", "bounced", "undelivered")
CANCELLED = "cancelled"  # never goes: a newer version is live, or the recipient opted out
# States no provider callback may move a delivery out of (they arrive late and out of order).
TERMINAL = ("delivered", *FAILED, CANCELLED)
