"""What every channel shares: the result of a send and the error that says whether to retry."""

from dataclasses import dataclass
from typing import Protocol

# Single-target channels go live within seconds on the `live` queue; recipient
# channels fan out on `bulk` (see DESIGN.md, "Delivery").
LIVE_CHANNELS = ("banner", "status_page", "ivr", "x")
RECIPIENT_CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class SendResult:
    status: str  # "sent" or, for the log provider, "simulated"
    provider: str
    provider_message_id: str | None = None
    detail: str = ""


class TransportError(Exception):
    """A send failed. ``permanent`` errors (invalid number, 4xx) are never retried."""

    def __init__(self, message: str, permanent: bool = False, code: str | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class Transport(Protocol):
    provider: str

    def notify(self, fields: dict[str, str], target: str, delivery_id: int) -> SendResult: ...
