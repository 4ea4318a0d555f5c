"""One module per channel: who the targets are and how a stored rendition reaches them.

Every channel can fall back to the ``log`` provider (see ``log.py``), which
records the exact payload it would send with status ``simulated``. That is the
embedded default, so the whole flow runs with no accounts.
"""

from .base import LIVE_CHANNELS, RECIPIENT_CHANNELS, SendResult, Transport, TransportError
from .log import LogTransport

__all__ = ["LIVE_CHANNELS", "RECIPIENT_CHANNELS", "LogTransport", "SendResult", "Transport", "TransportError",
           "transport_for"]


def transport_for(channel: str) -> Transport:
    """The transport a channel sends through. Real providers arrive with the delivery engine."""
    return LogTransport(channel)
