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
_refreshing = threading.Lock()  # held by the one thread reading the paused channels from the database


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
    found = _fresh(key)
    if found is not None:
        return found
    # One query per expiry, whatever the number of send threads: every thread asks before and after
    # each send, and when the cache expired they all queried at once (four queries a second instead
    # of one in a fan-out, each a pooled connection's ping, a SELECT and a commit). The others wait
    # for its answer, as long as they would have waited for their own.
    with _refreshing:
        found = _fresh(key)
        if found is not None:
            return found
        with transaction(settings.database_url) as s:
            found = {row.channel: (row.reason, row.since.timestamp()) for row in s.scalars(select(ChannelPause))}
        with _lock:
            _cache[key] = (time.monotonic(), found)
    return found


def _fresh(key: str) -> dict[str, tuple[str, float]] | None:
    with _lock:
        hit = _cache.get(key)
        return hit[1] if hit and time.monotonic() - hit[0] < _CACHE_SECONDS else None


def forget_cached(database_url: str) -> None:
    """Drop this process's cached paused channels of that database: they changed, or the database
    behind the URL is a new one (the tests' fresh copies)."""
    with _lock:
        _cache.pop(database_url, None)


def resume_if_paused(settings: Settings, channel: str) -> None:
    """A call that worked: resume the channel if it was paused (cached, so this costs nothing)."""
    if channel in _cached(settings):
        resume(settings, channel)
