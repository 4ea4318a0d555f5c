"""X's posting budget, read from X's own answers and shared by every worker; statements go first.

Every answer to ``POST /2/tweets`` says how many posts are left in the current window
(``x-rate-limit-limit/remaining/reset``) and in the rolling day (``x-user-limit-24hour-*``,
``x-app-limit-24hour-*``). ``observe`` keeps the lowest word on the window X has given; ``take``
grants one post at a time against it, atomically across the fleet (Redis when the broker is
Redis, else this process). An official statement post may use the whole window; a reply leaves
``x_statement_reserve`` of it (and of the day) untouched, so a statement never waits behind replies.
Until X has answered once in a window, the window ``x_rate`` describes is assumed.

A post that may not go now is not slept on: the caller gets how long to wait (the window's reset),
and the delivery waits in its row; after a 429 the whole fleet waits for the reset X named.
"""

import math
import threading
import time
from collections.abc import Mapping

from ..config import Settings
from ..store.redis_clients import redis_client, shared_redis_url

STATEMENT, REPLY = "statement", "reply"
RESET_MARGIN = 0.5  # seconds after X's reset before the next window is used: clocks differ a little
_HEADERS = {  # our field: X's header names, in order of preference (the lower remaining wins for the day)
    "limit": ("x-rate-limit-limit",), "remaining": ("x-rate-limit-remaining",), "reset": ("x-rate-limit-reset",),
}
_DAY_PREFIXES = ("x-user-limit-24hour-", "x-app-limit-24hour-")


def _assumed_window(settings: Settings) -> tuple[int, float]:
    from limits import parse

    item = parse(settings.x_rate)
    return item.amount, float(item.get_expiry())


def reserve_of(limit: int, share: float) -> int:
    """Posts of a window kept for statements: at least one whenever a share is asked for."""
    return max(1, math.ceil(limit * share)) if share > 0 and limit > 1 else 0


def decide(state: dict[str, float], now: float, kind: str, share: float,
           assumed: tuple[int, float]) -> tuple[float, dict[str, float]]:
    """(seconds to wait, 0 if granted; the new state). Pure: the same rule for Redis and for memory."""
    state = current(state, now, assumed)
    keep = reserve_of(int(state["limit"]), share) if kind == REPLY else 0
    keep_day = reserve_of(int(state.get("day_limit", 0)), share) if kind == REPLY else 0
    if state["remaining"] <= keep:
        return max(state["reset"] + RESET_MARGIN - now, 0.05), state
    if "day_remaining" in state and state["day_remaining"] <= keep_day:
        return max(state["day_reset"] + RESET_MARGIN - now, 0.05), state
    state["remaining"] -= 1
    if "day_remaining" in state:
        state["day_remaining"] -= 1
    return 0.0, state


def current(state: dict[str, float], now: float, assumed: tuple[int, float]) -> dict[str, float]:
    """The state as of now: a window that is over becomes a full one (assumed until X says otherwise)."""
    state = dict(state)
    if now >= state.get("reset", 0) + RESET_MARGIN:
        state.update(limit=state.get("limit", assumed[0]), reset=now + assumed[1])
        state["remaining"] = state["limit"]
    if "day_reset" in state and now >= state["day_reset"] + RESET_MARGIN:
        for key in ("day_reset", "day_remaining", "day_limit"):
            state.pop(key, None)
    return state


def merge(state: dict[str, float], headers: Mapping[str, str], now: float) -> dict[str, float]:
    """X's word on the window and the day. Its reset is the truth about when a window ends; its
    remaining only ever lowers ours while our window runs (our grants still in flight are not in X's
    count yet, and taking X's higher number would spend them twice). An answer about a window that is
    already over (a slow response) says nothing about the next one and is ignored."""
    state = dict(state)
    window = _numbers(headers, "x-rate-limit-")
    if window:
        _merge_bucket(state, window, now, "limit", "remaining", "reset")
    days = [d for d in (_numbers(headers, prefix) for prefix in _DAY_PREFIXES) if d]
    if days:
        _merge_bucket(state, min(days, key=lambda d: d["remaining"]), now, "day_limit", "day_remaining", "day_reset")
    return state


def _merge_bucket(state: dict[str, float], said: dict[str, float], now: float, limit: str, remaining: str,
                  reset: str) -> None:
    if said["reset"] + RESET_MARGIN <= now:
        return
    ours_running = remaining in state and state.get(reset, 0) + RESET_MARGIN > now
    state[remaining] = min(state[remaining], said["remaining"]) if ours_running else said["remaining"]
    state[limit], state[reset] = said["limit"], said["reset"]


def _numbers(headers: Mapping[str, str], prefix: str) -> dict[str, float] | None:
    try:
        return {key: float(headers[prefix + key]) for key in ("limit", "remaining", "reset")}
    except (KeyError, TypeError, ValueError):
        return None


# --- where the state lives ------------------------------------------------------------------------------


class _Memory:
    """One process (the embedded default)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.states: dict[str, dict[str, float]] = {}

    def update(self, key: str, change):
        with self.lock:
            result, new = change(self.states.get(key, {}))
            if new:
                self.states[key] = new
            return result


class _Redis:
    """The fleet: one hash per account, changed under WATCH so two workers never spend one post."""

    def __init__(self, client) -> None:
        self.client = client

    def update(self, key: str, change):
        import redis

        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    state = {k.decode(): float(v) for k, v in pipe.hgetall(key).items()}
                    result, new = change(state)
                    pipe.multi()
                    if new:
                        pipe.hset(key, mapping=new)
                        pipe.expire(key, 2 * 86400)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue


_memory = _Memory()


def _store(settings: Settings):
    return _Redis(redis_client(settings)) if shared_redis_url(settings) else _memory


def _key(account: str) -> str:
    return f"broadcaster:x-budget:{account}"


def take(settings: Settings, account: str, kind: str) -> float:
    """Spend one post of the budget: 0 if it may go now, else the seconds until it may."""
    assumed = _assumed_window(settings)
    return _store(settings).update(_key(account), lambda state: decide(
        state, time.time(), kind, settings.x_statement_reserve, assumed))


def observe(settings: Settings, account: str, headers: Mapping[str, str]) -> None:
    """Record what X said about the window (every answer to a post, 429s included)."""
    if "x-rate-limit-remaining" in headers or any(p + "remaining" in headers for p in _DAY_PREFIXES):
        _store(settings).update(_key(account), lambda state: (None, merge(state, headers, time.time())))


def snapshot(settings: Settings, account: str) -> dict:
    """How many replies may go now, and the window's shape (for the social inbox). Spends nothing.
    `window_resets_at` is None while no window runs (no post since the last one ended, or ever): the
    whole budget is there, and a window starts with the next post (`take`), or when X names one."""
    assumed = _assumed_window(settings)

    def look(state: dict[str, float]) -> tuple[tuple[dict[str, float], bool], dict]:
        now = time.time()
        return (current(state, now, assumed), now < state.get("reset", 0) + RESET_MARGIN), {}

    state, running = _store(settings).update(_key(account), look)
    limit, remaining = int(state["limit"]), int(state["remaining"])
    keep = reserve_of(limit, settings.x_statement_reserve)
    replies_now = max(remaining - keep, 0)
    if "day_remaining" in state:
        day_keep = reserve_of(int(state["day_limit"]), settings.x_statement_reserve)
        replies_now = min(replies_now, max(int(state["day_remaining"]) - day_keep, 0))
    return {"window_limit": limit, "window_remaining": remaining, "reserved_for_statements": keep,
            "replies_now": replies_now, "replies_per_window": max(limit - keep, 0),
            "window_resets_at": state["reset"] if running else None, "window_seconds": assumed[1],
            "day_remaining": int(state["day_remaining"]) if "day_remaining" in state else None}
