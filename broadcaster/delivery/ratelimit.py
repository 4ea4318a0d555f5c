"""The shared rate limiter: the whole fleet at each provider account's rate.

Sends are paced evenly by one slot counter per provider account (on Redis when the broker
is Redis), and a `limits` sliding window at the rate itself is the hard cap.
"""

import socket
import threading
import time
from collections import defaultdict
from functools import lru_cache

from ..channels import Transport, TransportError
from ..config import Settings

# A Redis host that goes away must fail a send (it is retried), not hang its thread for ever.
# TCP keepalive finds a dead peer in about 11 s at no cost per command; a read timeout
# (socket_timeout) would put a poll() before every read, a fifth of the limiter's CPU.
_REDIS_TIMEOUTS = {"socket_connect_timeout": 5, "socket_keepalive": True, "socket_keepalive_options": {
    socket.TCP_KEEPIDLE: 5, socket.TCP_KEEPINTVL: 2, socket.TCP_KEEPCNT: 3}}


@lru_cache(maxsize=4)
def _limiter(storage_uri: str):
    from limits.storage import storage_from_string
    from limits.strategies import SlidingWindowCounterRateLimiter

    # Two counters a key, whatever the rate: a moving window keeps one entry per request, and
    # at thousands a second its bookkeeping on Redis would cost more than the sends.
    options = _REDIS_TIMEOUTS if storage_uri.startswith("redis") else {}
    return SlidingWindowCounterRateLimiter(storage_from_string(storage_uri, **options))


@lru_cache(maxsize=16)
def _parsed(rate: str):
    """A rate such as "100/second" as a `limits` item: the hard cap itself (the pace keeps grants
    under it), and the interval between two requests at exactly that rate."""
    from limits import parse

    return parse(rate)


class _LocalPacer:
    """Spaces one process's sends (the embedded default has no shared store)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0

    def delay(self, interval: float) -> float:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at)
            self.next_at = at + interval
        return at - now


# The next free slot, fleet-wide, on Redis' own clock; returns how long the caller must wait.
_NEXT_SLOT = """
local now_s, now_us = unpack(redis.call('TIME'))
local now = tonumber(now_s) + tonumber(now_us) / 1000000
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], tostring(at + tonumber(ARGV[1])), 'EX', 3600)
return tostring(at - now)
"""


@lru_cache(maxsize=4)
def _redis_pacer(url: str):
    import redis

    return redis.Redis.from_url(url, **_REDIS_TIMEOUTS).register_script(_NEXT_SLOT)


_local_pacers: dict[tuple[str, str], _LocalPacer] = defaultdict(_LocalPacer)


def _pace(settings: Settings, transport: Transport, interval: float) -> None:
    """Space grants evenly, one per interval across the whole fleet. The shared window alone lets
    every waiting worker go the instant a slot frees; those bursts arrive at the provider as more
    than the rate in some second (429s). Paced, requests arrive evenly."""
    if settings.broker_url.startswith("redis"):
        key = f"broadcaster:pace:{transport.provider}:{transport.account}"
        wait = float(_redis_pacer(settings.broker_url)(keys=[key], args=[interval]))
    else:
        wait = _local_pacers[(transport.provider, transport.account)].delay(interval)
    if wait > 0:
        time.sleep(wait)


def limiter_wait(settings: Settings, transport: Transport, rate: str | None, cost: int = 1) -> None:
    """Block until the provider account has room for `cost` more requests at `rate` (the
    channel's rate setting; None: no limit), fleet-wide: paced grants, and a `limits` sliding
    window as the hard cap."""
    if rate is None:
        return
    cap = _parsed(rate)
    storage = settings.broker_url if settings.broker_url.startswith("redis") else "memory://"
    limiter = _limiter(storage)
    try:
        _pace(settings, transport, cost * cap.get_expiry() / cap.amount / (1 - settings.rate_headroom))
        while not limiter.hit(cap, transport.provider, transport.account, cost=cost):
            reset_at = limiter.get_window_stats(cap, transport.provider, transport.account).reset_time
            time.sleep(min(max(reset_at - time.time(), 0.001), 1.0))
    except Exception as exc:  # noqa: BLE001 - the limiter's Redis is down: wait, never send unthrottled
        raise TransportError(f"rate limiter unavailable: {exc}", code="limiter") from exc
