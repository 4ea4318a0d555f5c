"""Every Redis connection Broadcaster makes: the rate limiter, the pace, the locks, the X budget, the
shared counters, and the broker's transport options. One place decides how a URL is reached, so a
Redis behind Sentinel is followed through a failover by all of them alike.

A URL is a plain Redis (`redis://`, `rediss://`) or Celery's Sentinel form, Sentinels separated by
semicolons, the database and the master's password on them as on a Redis URL, the master's name in
`BROADCASTER_REDIS_SENTINEL_MASTER`:

    sentinel://:secret@10.0.0.1:26379;sentinel://10.0.0.2:26379;sentinel://10.0.0.3:26379/0

Every client gives up on a host that went away instead of hanging a thread: TCP keepalive finds a dead
peer of an idle connection in about 11 s, and TCP_USER_TIMEOUT gives up on a request left unacknowledged
for 10 s, at no cost per command (a read timeout would put a poll() before every read). Through Sentinel
the next command after a refused or dropped connection asks the Sentinels for the master again.
"""

import socket
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from ..config import Settings
from ..domain.errors import InvalidInput

REDIS_SCHEMES = ("redis://", "rediss://", "sentinel://")

TIMEOUTS = {"socket_connect_timeout": 5, "socket_keepalive": True, "socket_keepalive_options": {
    socket.TCP_KEEPIDLE: 5, socket.TCP_KEEPINTVL: 2, socket.TCP_KEEPCNT: 3,
    **({socket.TCP_USER_TIMEOUT: 10_000} if hasattr(socket, "TCP_USER_TIMEOUT") else {})}}
# A Sentinel that is down must not hold up asking the next one.
SENTINEL_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def uses_redis(url: str) -> bool:
    """Whether the URL is a Redis, plain or behind Sentinels (and not `memory://` or `amqp://`)."""
    return url.startswith(REDIS_SCHEMES)


@dataclass(frozen=True)
class SentinelTarget:
    """A Sentinel URL taken apart: where the Sentinels are, and what to ask them for."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int
    username: str | None
    password: str | None
    sentinel_password: str | None

    def master_options(self) -> dict:
        return {k: v for k, v in (("db", self.db), ("username", self.username), ("password", self.password))
                if v is not None}

    def sentinel_options(self) -> dict:
        return {**SENTINEL_TIMEOUTS, **({"password": self.sentinel_password} if self.sentinel_password else {})}


def sentinel_target(url: str, master: str | None, sentinel_password: str | None = None) -> SentinelTarget:
    """`sentinel://[:password@]host:port;sentinel://host:port/db` with the master's name, checked."""
    if not master:
        raise InvalidInput("BROADCASTER_BROKER_URL names Sentinels (sentinel://...): set "
                           "BROADCASTER_REDIS_SENTINEL_MASTER to the master's name (`sentinel monitor NAME ...`)")
    sentinels, db, username, password = [], 0, None, None
    for part in filter(None, (p.strip() for p in url.split(";"))):
        parsed = urlsplit(part)
        if parsed.scheme != "sentinel" or not parsed.hostname:
            raise InvalidInput(f"{part!r}: a Sentinel is given as sentinel://host:port, several separated by ';'")
        try:
            sentinels.append((parsed.hostname, parsed.port or 26379))
            if parsed.path.strip("/"):
                db = int(parsed.path.strip("/"))
        except ValueError:
            raise InvalidInput(f"{part!r}: the port and the database are numbers "
                               "(sentinel://host:26379/0)") from None
        username = username or (unquote(parsed.username) if parsed.username else None)
        password = password or (unquote(parsed.password) if parsed.password else None)
    return SentinelTarget(tuple(sentinels), master, db, username, password, sentinel_password)


def shared_redis_url(settings: Settings) -> str | None:
    """The Redis every process shares (limits, locks, counters): the broker's when it is Redis, else
    `BROADCASTER_REDIS_URL`; None when there is none (embedded, or RabbitMQ alone)."""
    if uses_redis(settings.broker_url):
        return settings.broker_url
    if settings.redis_url and not uses_redis(settings.redis_url):
        raise InvalidInput(f"BROADCASTER_REDIS_URL: {settings.redis_url!r} is not a Redis URL "
                           "(redis://host:6379/0, rediss://..., or sentinel://host:26379;sentinel://...)")
    return settings.redis_url or None


def target_of(settings: Settings, url: str | None = None) -> SentinelTarget | None:
    """The Sentinels behind `url` (the shared Redis by default), or None for a plain Redis URL."""
    url = url or shared_redis_url(settings) or ""
    if not url.startswith("sentinel://"):
        return None
    return sentinel_target(url, settings.redis_sentinel_master, settings.redis_sentinel_password)


_making = threading.Lock()


def redis_client(settings: Settings, url: str | None = None, **options: float | bool):
    """The process's one `redis.Redis` for this URL (the shared Redis by default: `shared_redis_url`)
    and these `options` over `TIMEOUTS` (say `socket_timeout=1`), following the master through
    Sentinel when the URL names Sentinels."""
    url = url or shared_redis_url(settings)
    if url is None:
        raise InvalidInput("no Redis is configured (BROADCASTER_BROKER_URL or BROADCASTER_REDIS_URL)")
    with _making:
        return _client(url, target_of(settings, url), tuple(sorted(options.items())))


@lru_cache(maxsize=16)
def _client(url: str, target: SentinelTarget | None, options: tuple = ()):
    import redis
    from redis.sentinel import Sentinel

    connection = {**TIMEOUTS, **dict(options)}
    if target is None:
        return redis.Redis.from_url(url, **connection)
    sentinel = Sentinel(list(target.sentinels), sentinel_kwargs=target.sentinel_options(), **connection)
    return sentinel.master_for(target.master, **target.master_options())


def limits_storage(settings: Settings, url: str | None = None):
    """A `limits` storage on `url`, by default the shared Redis (every process counts together) or,
    without one, this process's memory. A Sentinel URL is reached through the
    Sentinels (`redis+sentinel://`); a Redis storage is one per process, a memory storage new each call."""
    url = url or shared_redis_url(settings) or "memory://"
    return limits_storage_for(url, target_of(settings, url))


def limits_storage_for(url: str, target: SentinelTarget | None):
    """`limits_storage` for a URL already taken apart (`target_of`)."""
    from limits.storage import storage_from_string

    with _making:  # limits loads its client library lazily, and not thread-safely
        if target is None and url == "memory://":
            return _in_process_counts()()
        if target is None and not url.startswith(("redis://", "rediss://")):
            return storage_from_string(url)
        return _storage(url, target)


SWEEP_SECONDS = 1.0  # how often, at most, a memory storage drops the counts whose window has ended


@lru_cache(maxsize=1)
def _in_process_counts() -> type:
    """limits' memory storage without a thread per count. Its `incr` (every API request's rate count,
    every login attempt) starts a 10 ms timer thread to drop expired counts whenever none is running,
    so nearly every request of a quiet server or a test started one: 0.45 ms of CPU a request. This
    one drops them on the counting thread, at most once a `SWEEP_SECONDS`. The counts are the same:
    a count past its window is read as gone whether or not it was dropped yet."""
    from limits.storage import MemoryStorage

    class InProcessCounts(MemoryStorage):
        swept_at = 0.0

        def _MemoryStorage__schedule_expiry(self) -> None:  # what MemoryStorage calls on every count
            if time.monotonic() - self.swept_at >= SWEEP_SECONDS:
                self.swept_at = time.monotonic()
                self._MemoryStorage__expire_events()

    return InProcessCounts


@lru_cache(maxsize=8)
def _storage(url: str, target: SentinelTarget | None):
    from limits.storage import storage_from_string

    if target is None:
        return storage_from_string(url, **TIMEOUTS)
    hosts = ",".join(f"{host}:{port}" for host, port in target.sentinels)
    # Reads on the master too: a replica a moment behind would let a few more sends through.
    return storage_from_string(f"redis+sentinel://{hosts}/{target.master}", use_replicas=False,
                               sentinel_kwargs=target.sentinel_options(), **target.master_options(), **TIMEOUTS)


def broker_transport_options(settings: Settings) -> dict:
    """What kombu needs besides the URL to follow the master: its name, and the Sentinels' password."""
    target = target_of(settings, settings.broker_url)
    if target is None:
        return {}
    return {"master_name": target.master, "sentinel_kwargs": target.sentinel_options()}
