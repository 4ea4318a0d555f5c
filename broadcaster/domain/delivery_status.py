"""A delivery's status, and the moves between statuses the engine may make: the one vocabulary.

    pending ─claim─▶ sending ─outcome─▶ sent / simulated ─receipt─▶ delivered / bounced / undelivered / failed
       ▲                │  ├─outcome─▶ retry (backoff in the row) ─claim─▶ sending ...
       │                │  ├─outcome─▶ failed (permanent, or out of attempts)
       │                │  └─lease expired─▶ unknown ─reconcile─▶ sent / retry / cancelled
       └─requeue (an operator's resend)── failed / unknown / cancelled / bounced / undelivered
    pending / retry ─cancel (a newer version is live, the recipient opted out, the message is void)─▶ cancelled

`MOVES` is that picture as a table: for each kind of move, the statuses it may start from and
where each may go. `delivery/records.py` makes every move and asks this table first, so a status
cannot change in a way the picture does not show.
"""

from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # written, waiting for a worker's claim
    SENDING = "sending"  # claimed: one worker holds it under a lease while it calls the provider
    SENT = "sent"  # the provider accepted it (or a live surface now shows it)
    SIMULATED = "simulated"  # the `log` provider recorded what it would send; nothing left the machine
    DELIVERED = "delivered"  # the provider reported it reached the recipient
    BOUNCED = "bounced"  # the recipient's server refused it after it was sent (email)
    UNDELIVERED = "undelivered"  # the provider could not deliver it after accepting it
    RETRY = "retry"  # proved not sent; tried again at `next_attempt_at`
    FAILED = "failed"  # will not be sent: refused for good, or out of attempts
    UNKNOWN = "unknown"  # may or may not have gone (the worker died mid-call, an ambiguous answer): reconciled
    CANCELLED = "cancelled"  # never goes: a newer version is live, the recipient opted out, the message is void


class Move(StrEnum):
    CREATE = "create"  # a new row (from no status)
    CLAIM = "claim"  # a worker takes it to send
    OUTCOME = "outcome"  # what the provider call did, recorded by the worker that claimed it
    LEASE_EXPIRED = "lease expired"  # the worker that claimed it died during the call
    RECONCILE = "reconcile"  # the provider was asked what became of an unknown send
    RECEIPT = "receipt"  # the provider's callback after the send (delivered, bounced, ...)
    CANCEL = "cancel"  # it will never go
    REQUEUE = "requeue"  # an operator's (or the social queue's) decision to send it again


S = DeliveryStatus
PREPARING = "preparing"  # not a status: what progress reports call the rows a fan-out has still to write

UNSENT = frozenset({S.PENDING, S.RETRY})  # waiting for a claim
IN_FLIGHT = frozenset({S.SENDING, S.UNKNOWN})  # claimed, outcome not known yet
REACHED = frozenset({S.SENT, S.SIMULATED, S.DELIVERED})  # the target has it (or shows it)
SHOWN = frozenset({S.SENT, S.SIMULATED})  # a live surface's delivery in one of these shows that version
FAILED_FOR_GOOD = frozenset({S.FAILED, S.BOUNCED, S.UNDELIVERED})
# No provider callback moves a delivery out of these (callbacks arrive late and out of order).
TERMINAL = frozenset({S.DELIVERED, *FAILED_FOR_GOOD, S.CANCELLED})
_RECEIPTS = frozenset({S.DELIVERED, S.BOUNCED, S.UNDELIVERED, S.FAILED})

MOVES: dict[Move, dict[DeliveryStatus | None, frozenset[DeliveryStatus]]] = {
    Move.CREATE: {None: frozenset({S.PENDING})},
    Move.CLAIM: {S.PENDING: frozenset({S.SENDING}), S.RETRY: frozenset({S.SENDING})},
    # `pending`: released untried (the chunk ran out of time); `retry`: also a paused channel's rows.
    Move.OUTCOME: {S.SENDING: frozenset({S.SENT, S.SIMULATED, S.RETRY, S.FAILED, S.UNKNOWN, S.PENDING,
                                         S.CANCELLED})},
    Move.LEASE_EXPIRED: {S.SENDING: frozenset({S.UNKNOWN})},
    # A cancelled row that was unknown when a newer version came is asked too: if it went, the log says so.
    Move.RECONCILE: {S.UNKNOWN: frozenset({S.SENT, S.RETRY, S.CANCELLED}),
                     S.CANCELLED: frozenset({S.SENT, S.CANCELLED})},
    # From any status not final: a late receipt for a row since requeued or retried proves it went.
    Move.RECEIPT: {status: _RECEIPTS for status in S if status not in TERMINAL},
    Move.CANCEL: {S.PENDING: frozenset({S.CANCELLED}), S.RETRY: frozenset({S.CANCELLED}),
                  S.UNKNOWN: frozenset({S.CANCELLED})},
    Move.REQUEUE: {status: frozenset({S.PENDING})
                   for status in (S.FAILED, S.UNKNOWN, S.CANCELLED, S.BOUNCED, S.UNDELIVERED)},
}


class IllegalMove(ValueError):
    """A move the table does not allow: a bug in the engine, never a user's mistake."""


def sources(move: Move) -> frozenset[DeliveryStatus]:
    """The statuses `move` may start from."""
    return frozenset(status for status in MOVES[move] if status is not None)


def allowed(move: Move, old: DeliveryStatus | str | None, new: DeliveryStatus | str) -> bool:
    return new in MOVES[move].get(S(old) if old is not None else None, frozenset())


def check(move: Move, old: DeliveryStatus | str | None, new: DeliveryStatus | str) -> DeliveryStatus:
    """`new` as a status, if `move` may take a delivery there from `old`; IllegalMove if not."""
    if not allowed(move, old, new):
        raise IllegalMove(f"a delivery cannot move from {old or 'nothing'} to {new} by {move.value}")
    return S(new)


def legal_history(statuses: list[str]) -> bool:
    """Whether a delivery's send log, oldest first, is a walk the table allows. A line may repeat
    the status (a reconciled cancel stays cancelled; an outcome logged twice is not a move)."""
    previous: str | None = None
    for status in statuses:
        if status != previous and not any(allowed(move, previous, status) for move in Move):
            return False
        previous = status
    return True
