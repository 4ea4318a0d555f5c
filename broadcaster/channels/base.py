"""What every channel shares: targets, the send context, results, and the error that says
whether to retry.

A transport is one short class with one ``notify`` method. It receives the stored,
approved rendition fields (never re-rendered) and a batch of targets (at most its
``batch_size``), makes the provider call(s) and returns one SendResult per target.
A failure of the whole call is a TransportError: ``permanent`` says never retry
(invalid number, 4xx other than 429), ``retry_after`` honours the provider's hint.
"""

from dataclasses import dataclass
from typing import Protocol

# Single-target channels go live within seconds on the `live` queue; recipient
# channels fan out on `bulk` (see DESIGN.md, "Delivery").
LIVE_CHANNELS = ("banner", "status_page", "ivr", "x")
RECIPIENT_CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class Target:
    delivery_id: int
    address: str  # an email address, an E.164 number, or the channel's own name for live surfaces
    # Transport fields outside the approved text, per recipient (None without a public URL):
    unsubscribe_url: str | None = None  # RFC 8058 one-click link, signed
    status_callback_url: str | None = None  # where the provider reports delivery


@dataclass(frozen=True)
class SendContext:
    statement_id: int
    incident_id: int
    version: int
    reply_to: str | None = None  # provider id of this incident's previous post (X threads)


@dataclass(frozen=True)
class SendResult:
    delivery_id: int
    status: str  # "sent", or "simulated" for the log provider
    provider_message_id: str | None = None
    detail: str = ""


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (at least 1), or None: absent, or an HTTP date, which
    leaves the wait to our own backoff."""
    try:
        return max(float(value), 1.0) if value else None
    except ValueError:
        return None


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False, code: str | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after


class Transport(Protocol):
    provider: str  # "twilio", "sendgrid", "x", "builtin", "log"
    batch_size: int  # targets one notify() call can carry
    account: str  # the provider account a shared rate limit applies to

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]: ...


class Reconcilable(Protocol):
    """A transport that can tell, after a crash, whether a message went out."""

    def find_sent(self, fields: dict[str, str], target: Target, since_iso: str) -> str | None:
        """The provider message id if the provider has this message, else None."""
        ...
