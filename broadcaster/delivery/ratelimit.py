"""The shared rate limiter: the whole fleet at each provider account's rate.

Sends are paced evenly by one slot counter per provider account (on Redis when the broker
is Redis), and a `limits` sliding window at the rate itself is the hard cap, counted when a send
goes out (not when its slot is booked, which may be long before when many threads wait).

A process books its slots of the fleet's pace a **block** at a time and hands them to its send
threads one by one, each at its own time, and takes its share of the hard cap a block at a time
too, as the sends go: at a few thousand SMS a second, two Redis round trips per message were a
third of a send's CPU. The block grows while the process uses every slot of it and halves when
slots go unused (a slow provider, every thread busy), so a process never sits on much of the
fleet's rate; a block never spans more than `BLOCK_SECONDS`, so at an account's usual rate (up
to 200 a second) it is one slot, exactly as if there were no blocks.
"""

import threading
import time
from collections import defaultdict, deque
from functools import lru_cache

from ..channels import Transport, TransportError
from ..config import Settings
from ..store.redis_clients import limits_storage, redis_client, shared_redis_url

# limits loads its storage's client library lazily, and not thread-safely: eight send threads of a
# fresh process asking at once got "minimum version of 3.0 for 'redis' could not be found" from
# seven. The limiters and pacers are made under this lock, once per broker URL (store/redis_clients
# makes their connections: a Redis, or the master behind Sentinel).
_making = threading.Lock()
_limiters: dict[str, object] = {}
_pacers: dict[str, object] = {}


def _limiter(settings: Settings):
    url = shared_redis_url(settings) or "memory://"
    with _making:
        if url not in _limiters:
            from limits.strategies import SlidingWindowCounterRateLimiter

            # Two counters a key, whatever the rate: a moving window keeps one entry per request, and
            # at thousands a second its bookkeeping on Redis would cost more than the sends.
            _limiters[url] = SlidingWindowCounterRateLimiter(limits_storage(settings))
        return _limiters[url]


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

def _redis_pacer(settings: Settings):
    url = shared_redis_url(settings)
    with _making:
        if url not in _pacers:
            _pacers[url] = redis_client(settings).register_script(_NEXT_SLOT)
        return _pacers[url]


_local_pacers: dict[tuple[str, str], _LocalPacer] = defaultdict(_LocalPacer)


def _pace(settings: Settings, transport: Transport, seconds: float) -> float:
    """Reserve the next `seconds` of the account's pace across the whole fleet; returns how long
    until that reservation starts. The shared window alone lets every waiting worker go the
    instant a slot frees; those bursts arrive at the provider as more than the rate in some
    second (429s). Paced, requests arrive evenly."""
    if shared_redis_url(settings):
        key = f"broadcaster:pace:{transport.provider}:{transport.account}"
        return float(_redis_pacer(settings)(keys=[key], args=[seconds]))
    return _local_pacers[(transport.provider, transport.account)].delay(seconds)


BLOCK_SECONDS = 0.005  # the most of an account's pace one process reserves at once: 1 slot up to 200/s
MAX_BLOCK = 64
STALE_SECONDS = 0.02  # a slot not used this long after its time is dropped: sent late, it would bunch
# Hard-cap credits not used this long are dropped. Longer than a slot: a credit's block is at most
# BLOCK_SECONDS of the rate whatever this is, so it bounds how much the window counts early, and a
# worker busy on two shared cores sends a few hundred a second, a handful in STALE_SECONDS.
CREDIT_SECONDS = 0.1


class _Reserve:
    """One process's share of one account's rate: booked pace slots (a monotonic time each, in
    order) and hard-cap credits (sends the `limits` window has already counted)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slots: deque[float] = deque()
        self.block = 1
        self.credits = 0
        self.credits_until = 0.0
        self.credit_block = 1

    def slot(self, cost: int, interval: float, book) -> float:
        """The time at which the caller may send `cost` requests; `book(n)` books n more slots of
        the fleet's pace when short and returns the wait until the first."""
        with self.lock:
            now = time.monotonic()
            went_stale = bool(self.slots) and self.slots[0] < now - STALE_SECONDS
            if went_stale:
                while self.slots and self.slots[0] < now - STALE_SECONDS:
                    self.slots.popleft()
                self.block = max(1, self.block // 2)  # more than this process could use: ask for less
            if len(self.slots) < cost:
                if not self.slots and not went_stale:  # every slot of the last block used in time: ask for more
                    self.block = min(self.block * 2, max_block(interval))
                need = max(cost - len(self.slots), min(self.block, max_block(interval)))
                wait = book(need)
                start = time.monotonic() + wait
                first = max(start, self.slots[-1] + interval if self.slots else start)
                self.slots.extend(first + i * interval for i in range(need))
            for _ in range(cost - 1):
                self.slots.popleft()
            return self.slots.popleft()

    def credit(self, cost: int, hit, most: int = 1) -> bool:
        """Count `cost` sends going out now against the hard cap; `hit(n)` asks the window for n
        (kept for the next sends for `CREDIT_SECONDS`). False: the window is full. n is a block of the
        credits' own, up to `most` (the pace's largest block): it doubles while the process uses
        every credit in half that time and halves when credits expire unused (counted and never
        sent: the safe side, kept small). Not the pace's block, which halves whenever a slot is sent
        late: a process far slower than a fast account's rate always sends late, and then asked the
        window for one or two sends at a time, a Redis round trip every other message."""
        with self.lock:
            now = time.monotonic()
            if now > self.credits_until:
                if self.credits:  # counted and never sent: more than this process uses in time
                    self.credit_block = max(1, self.credit_block // 2)
                self.credits = 0
            elif self.credits < cost and now < self.credits_until - CREDIT_SECONDS / 2:
                self.credit_block = min(self.credit_block * 2, most)  # all used in half the time: ask for more
            if self.credits >= cost:
                self.credits -= cost
                return True
            want = max(cost, min(self.credit_block, most))
        # Outside the lock: a second thread asking at the same moment only counts a few sends twice,
        # which errs on the safe side.
        if not hit(want) and not (want > cost and hit(want := cost)):
            return False
        with self.lock:
            now = time.monotonic()
            if now > self.credits_until:
                self.credits = 0
            self.credits += want - cost
            self.credits_until = now + CREDIT_SECONDS
        return True


def max_block(interval: float) -> int:
    return max(1, min(MAX_BLOCK, int(BLOCK_SECONDS / interval)))


_reserves: dict[tuple[str, str], _Reserve] = defaultdict(_Reserve)


def limiter_wait(settings: Settings, transport: Transport, rate: str | None, cost: int = 1) -> None:
    """Block until the provider account has room for `cost` more requests at `rate` (the
    channel's rate setting; None: no limit), fleet-wide: wait for a paced slot, then count the
    send against the `limits` window (the hard cap), waiting for it if it is full."""
    if rate is None:
        return
    cap = _parsed(rate)
    interval = cap.get_expiry() / cap.amount / (1 - settings.rate_headroom)
    reserve = _reserves[(transport.provider, transport.account)]
    try:
        at = reserve.slot(cost, interval, lambda slots: _pace(settings, transport, slots * interval))
        _sleep_until(at)
        limiter = _limiter(settings)
        while not reserve.credit(cost, lambda n: limiter.hit(cap, transport.provider, transport.account, cost=n),
                                 max_block(interval)):
            reset_at = limiter.get_window_stats(cap, transport.provider, transport.account).reset_time
            time.sleep(min(max(reset_at - time.time(), 0.001), 1.0))
    except Exception as exc:  # noqa: BLE001 - the limiter's Redis is down: wait, never send unthrottled
        # Nothing reached the provider: the delivery waits in its row, its attempt not counted.
        raise TransportError(f"rate limiter unavailable: {exc}", code="limiter", attempted=False) from exc


def _sleep_until(moment: float) -> None:
    wait = moment - time.monotonic()
    if wait > 0:
        time.sleep(wait)
