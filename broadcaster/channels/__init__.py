"""One module per channel: how a stored rendition reaches its targets.

``transport_for`` picks each channel's provider from the settings: the real SDK when
its credentials are set, else the ``log`` provider (status ``simulated``, never
``sent``), so the whole flow runs on a laptop with no accounts. The banner, status
page and IVR message are built in (``live.py``).
"""

import threading

from ..config import Settings
from .base import (
    LIVE_CHANNELS,
    RECIPIENT_CHANNELS,
    SendContext,
    SendResult,
    Target,
    Transport,
    TransportError,
)
from .live import LiveSurface
from .log import LogTransport

__all__ = ["LIVE_CHANNELS", "RECIPIENT_CHANNELS", "SendContext", "SendResult", "Target", "Transport",
           "TransportError", "transport_for", "warm_up"]

BUILT_IN = ("banner", "status_page", "ivr")

# SDK clients hold HTTP sessions: one per thread, reused across sends (send threads live as
# long as their process). An entry keeps its settings alive, so their id cannot be reused by
# other settings while the entry exists; the cap bounds what a test run's many settings leave.
_local = threading.local()
_CACHED_PER_THREAD = 32


def transport_for(channel: str, settings: Settings) -> Transport:
    cache = _local.__dict__.setdefault("transports", {})
    key = (channel, id(settings))
    if key not in cache:
        if len(cache) >= _CACHED_PER_THREAD:
            cache.clear()
        cache[key] = (settings, _make(channel, settings))
    return cache[key][1]


def warm_up(settings: Settings) -> None:
    """Build each channel's transport once and drop it: the SDKs import their modules lazily, and
    a worker's pool processes, forked after this, then start with them loaded."""
    for channel in (*LIVE_CHANNELS, *RECIPIENT_CHANNELS):
        _make(channel, settings)


def _make(channel: str, settings: Settings) -> Transport:
    if channel in BUILT_IN:
        return LiveSurface(channel)
    if channel == "sms" and settings.twilio_configured:
        from .sms import TwilioSms

        return TwilioSms(settings)
    if channel == "email" and settings.sendgrid_configured:
        from .email import SendGridEmail

        return SendGridEmail(settings)
    if channel == "x" and settings.x_configured:
        from .x import XPosts

        return XPosts(settings)
    return LogTransport(channel, batch_size=settings.email_batch_size if channel == "email" else 1)
