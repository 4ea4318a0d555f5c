"""The counts of an installation without a shared Redis live in the process (`limits_storage_for`
"memory://"): counting starts no thread, and counts whose window ended are still dropped."""

import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from broadcaster.store import redis_clients
from broadcaster.store.redis_clients import limits_storage_for


def test_counting_in_memory_starts_no_thread(monkeypatch):
    storage = limits_storage_for("memory://", None)
    time.sleep(0.05)  # the storage's first sweep timer (started as it is made) has run
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread) or real_start(thread))
    fixed, moving, rate = FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage), parse("3/minute")
    for _ in range(4):
        fixed.hit(rate, "api", "caller")
        moving.hit(rate, "login", "caller")
        time.sleep(0.02)  # past the 10 ms after which limits' own storage starts a new timer at each count
    assert not started
    assert not fixed.test(rate, "api", "caller") and not moving.test(rate, "login", "caller")  # counted all the same


def test_counts_whose_window_ended_are_dropped(monkeypatch):
    monkeypatch.setattr(redis_clients, "SWEEP_SECONDS", 0.0)
    storage = limits_storage_for("memory://", None)
    storage.incr("short", expiry=0.01)
    storage.acquire_entry("window", limit=5, expiry=0.01)
    time.sleep(0.03)
    storage.incr("other", expiry=60)  # any count sweeps
    assert "short" not in storage.storage and not storage.events.get("window")
    assert storage.get("other") == 1
