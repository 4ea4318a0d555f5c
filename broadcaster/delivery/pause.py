"""Paused channels: the provider refused our credentials (a rotated key, a suspended account).

Failing a million deliveries for good because a key was rotated would be wrong: they wait
instead. The channel is paused with the provider's reason; its deliveries go back to `retry`
without spending an attempt; one batch a `channel_pause_seconds` probes the provider, and the
first call that works resumes the channel. `broadcaster status`, `/metrics` and the audit say so.
"""

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import delete, select, update

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..domain.event_types import EventType
from ..store.db import insert_for, transaction
from ..store.models import ChannelPause, Delivery, utcnow
from .hooks import raise_event

logger = logging.getLogger("broadcaster.pause")
_CACHE_SECONDS = 1.0
_cache: dict[str, tuple[float, dict[str, tuple[str, float]]]] = {}
_lock = threading.Lock()
# One read of the pauses at a time: the send threads of a chunk start together, and each found the
# cache expired and read the table itself (a transaction each); now the others wait for that one read.
_reading = threading.Lock()


def pause(settings: Settings, channel: str, reason: str) -> None:
    """Pause the channel (or note that the probe failed again, which restarts its wait)."""
    newly = channel not in _cached(settings)
    if newly:
        logger.error("channel %s paused: %s", channel, reason)
    # An upsert: several send threads may hit the refused key at the same moment.
    values = {"channel": channel, "reason": reason, "since": utcnow()}
    with transaction(settings.database_url) as s:
        s.execute(insert_for(s, ChannelPause).values(**values).on_conflict_do_update(
            index_elements=["channel"], set_={"reason": values["reason"], "since": values["since"]}))
    forget_cached(settings.database_url)
    if newly:
        raise_event(settings, EventType.CHANNEL_PAUSED, {"channel": channel, "reason": reason})


def resume(settings: Settings, channel: str) -> None:
    with transaction(settings.database_url) as s:
        gone = s.execute(delete(ChannelPause).where(ChannelPause.channel == channel)).rowcount
        # What waited for the credentials is due now, not at the end of its pause interval.
        s.execute(update(Delivery).where(Delivery.channel == channel, Delivery.status == DeliveryStatus.RETRY,
                                         Delivery.error_code == "paused").values(next_attempt_at=None))
    if gone:
        logger.warning("channel %s resumed: the provider accepts our credentials again", channel)
    forget_cached(settings.database_url)
    if gone:
        raise_event(settings, EventType.CHANNEL_RESUMED, {"channel": channel})


def paused_channels(settings: Settings) -> dict[str, dict]:
    """{channel: {"reason", "since"}} of every paused channel."""
    with transaction(settings.database_url) as s:
        return {row.channel: {"reason": row.reason, "since": row.since.isoformat()}
                for row in s.scalars(select(ChannelPause).order_by(ChannelPause.channel))}


def held_back(settings: Settings, channel: str) -> str | None:
    """Why a batch on this channel must wait now, or None to send. A paused channel lets one
    batch through per `channel_pause_seconds` as its probe."""
    pauses = _cached(settings)
    if channel not in pauses:
        return None
    reason, since = pauses[channel]
    if time.time() - since >= settings.channel_pause_seconds:
        with _lock:  # one probe per process per interval; the others keep waiting
            pauses[channel] = (reason, time.time())
        return None
    return f"channel {channel} is paused: {reason}"


def retry_at(settings: Settings):
    return utcnow() + timedelta(seconds=settings.channel_pause_seconds)


def _cached(settings: Settings) -> dict[str, tuple[str, float]]:
    key = settings.database_url
    with _reading:
        with _lock:
            hit = _cache.get(key)
            if hit and time.monotonic() - hit[0] < _CACHE_SECONDS:
                return hit[1]
        with transaction(settings.database_url) as s:
            found = {row.channel: (row.reason, row.since.timestamp()) for row in s.scalars(select(ChannelPause))}
        with _lock:
            _cache[key] = (time.monotonic(), found)
        return found


def forget_cached(database_url: str) -> None:
    """Drop this process's cached paused channels of that database: they changed, or the database
    behind the URL is a new one (the tests' fresh copies)."""
    with _lock:
        _cache.pop(database_url, None)


def resume_if_paused(settings: Settings, channel: str) -> None:
    """A call that worked: resume the channel if it was paused (cached, so this costs nothing)."""
    if channel in _cached(settings):
        resume(settings, channel)
