"""The shared rate limiter: the whole fleet at each provider account's rate.

Sends are paced evenly by one slot counter per provider account (on Redis when the broker
is Redis), and a `limits` sliding window at the rate itself is the hard cap.

A process takes its slots from the fleet's pace a **block** at a time and hands them to its send
threads one by one, each at its own time: at a few thousand SMS a second, two Redis round trips
per message were a third of a send's CPU. The block grows while the process uses every slot of
it and halves when slots go unused (a slow provider, every thread busy), so a process never sits
on much of the fleet's rate; a block never spans more than `BLOCK_SECONDS`, so at an account's
usual rate (up to 200 a second) it is one slot, exactly as if there were no blocks.
"""

import socket
import threading
import time
from collections import defaultdict, deque
from functools import lru_cache

from ..channels import Transport, TransportError
from ..config import Settings

# A Redis host that goes away must fail a send (it is retried), not hang its thread for ever.
# TCP keepalive finds a dead peer in about 11 s at no cost per command; a read timeout
# (socket_timeout) would put a poll() before every read, a fifth of the limiter's CPU.
_REDIS_TIMEOUTS = {"socket_connect_timeout": 5, "socket_keepalive": True, "socket_keepalive_options": {
    socket.TCP_KEEPIDLE: 5, socket.TCP_KEEPINTVL: 2, socket.TCP_KEEPCNT: 3}}


# limits loads its storage's client library lazily, and not thread-safely: eight send threads of a
# fresh process asking at once got "minimum version of 3.0 for 'redis' could not be found" from
# seven. The clients are made under this lock, once.
_making = threading.Lock()


def _limiter(storage_uri: str):
    with _making:
        return _make_limiter(storage_uri)


@lru_cache(maxsize=4)
def _make_limiter(storage_uri: str):
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


def _redis_pacer(url: str):
    with _making:
        return _make_redis_pacer(url)


@lru_cache(maxsize=4)
def _make_redis_pacer(url: str):
    import redis

    return redis.Redis.from_url(url, **_REDIS_TIMEOUTS).register_script(_NEXT_SLOT)


_local_pacers: dict[tuple[str, str], _LocalPacer] = defaultdict(_LocalPacer)


def _pace(settings: Settings, transport: Transport, seconds: float) -> float:
    """Reserve the next `seconds` of the account's pace across the whole fleet; returns how long
    until that reservation starts. The shared window alone lets every waiting worker go the
    instant a slot frees; those bursts arrive at the provider as more than the rate in some
    second (429s). Paced, requests arrive evenly."""
    if settings.broker_url.startswith("redis"):
        key = f"broadcaster:pace:{transport.provider}:{transport.account}"
        return float(_redis_pacer(settings.broker_url)(keys=[key], args=[seconds]))
    return _local_pacers[(transport.provider, transport.account)].delay(seconds)


BLOCK_SECONDS = 0.005  # the most of an account's pace one process reserves at once: 1 slot up to 200/s
MAX_BLOCK = 64
STALE_SECONDS = 0.02  # a slot not used this long after its time is dropped: sent late, it would bunch


class _Reserve:
    """One process's slots of one account's pace: (monotonic time) each, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slots: deque[float] = deque()
        self.block = 1

    def take(self, cost: int, interval: float, fetch) -> float:
        """The time at which the caller may send `cost` requests; fetches a block when short."""
        with self.lock:
            now = time.monotonic()
            went_stale = bool(self.slots) and self.slots[0] < now - STALE_SECONDS
            if went_stale:
                while self.slots and self.slots[0] < now - STALE_SECONDS:
                    self.slots.popleft()
                self.block = max(1, self.block // 2)  # more than this process could use: ask for less
            if len(self.slots) < cost:
                if not self.slots and not went_stale:  # every slot of the last block was used in time: ask for more
                    self.block = min(self.block * 2, max_block(interval))
                need = max(cost - len(self.slots), min(self.block, max_block(interval)))
                start = time.monotonic() + fetch(need)
                first = max(start, self.slots[-1] + interval if self.slots else start)
                self.slots.extend(first + i * interval for i in range(need))
            for _ in range(cost - 1):
                self.slots.popleft()
            return self.slots.popleft()


def max_block(interval: float) -> int:
    return max(1, min(MAX_BLOCK, int(BLOCK_SECONDS / interval)))


_reserves: dict[tuple[str, str], _Reserve] = defaultdict(_Reserve)


def limiter_wait(settings: Settings, transport: Transport, rate: str | None, cost: int = 1) -> None:
    """Block until the provider account has room for `cost` more requests at `rate` (the
    channel's rate setting; None: no limit), fleet-wide: paced grants, and a `limits` sliding
    window as the hard cap."""
    if rate is None:
        return
    cap = _parsed(rate)
    storage = settings.broker_url if settings.broker_url.startswith("redis") else "memory://"
    interval = cap.get_expiry() / cap.amount / (1 - settings.rate_headroom)

    def fetch(slots: int) -> float:
        """Reserve `slots` of the fleet's pace, within the hard cap; returns the wait until the first."""
        wait = _pace(settings, transport, slots * interval)
        limiter = _limiter(storage)
        while not limiter.hit(cap, transport.provider, transport.account, cost=slots):
            reset_at = limiter.get_window_stats(cap, transport.provider, transport.account).reset_time
            time.sleep(min(max(reset_at - time.time(), 0.001), 1.0))
        return wait

    try:
        at = _reserves[(transport.provider, transport.account)].take(cost, interval, fetch)
    except Exception as exc:  # noqa: BLE001 - the limiter's Redis is down: wait, never send unthrottled
        raise TransportError(f"rate limiter unavailable: {exc}", code="limiter") from exc
    wait = at - time.monotonic()
    if wait > 0:
        time.sleep(wait)
