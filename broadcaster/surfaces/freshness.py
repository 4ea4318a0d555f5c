"""Fresh on change, not on a timer: a switch of a live surface is announced on Redis pub/sub
(`notify_public_servers`, run by the process that switched it, after its commit), and every public
server's `Listener` reads the documents again at once, in its own thread, so requests keep being
answered from memory and the new words are served within milliseconds of the switch.

While the notifier cannot be reached (or none is configured) the listener asks the database every
`public_poll_seconds` instead (`switch_marker`: one cheap query), and tries the notifier again. A
lost announcement costs nothing either: the listener also asks every `SAFETY_NET_SECONDS`. While the
database is down the last documents stay, and the listener retries it every `public_poll_seconds`,
replaying what its spool kept (call-backs, STOPs) as soon as it answers.
"""

import logging
import threading
import time
from functools import lru_cache

import redis

from ..config import Settings
from ..store.redis_clients import redis_client, shared_redis_url
from .cache import SurfaceCache
from .spool import Spool

CHANNEL = "broadcaster:surfaces:switched"
SAFETY_NET_SECONDS = 30.0
logger = logging.getLogger("broadcaster.surfaces")


def notify_url(settings: Settings) -> str | None:
    """Where switches are announced: BROADCASTER_PUBLIC_NOTIFY_URL, else the Redis every process shares
    (the broker's when it is Redis, plain or behind Sentinel; else BROADCASTER_REDIS_URL)."""
    return settings.public_notify_url or shared_redis_url(settings)


@lru_cache(maxsize=4)
def _plain_client(url: str, **timeouts) -> redis.Redis:
    return redis.Redis.from_url(url, **timeouts)


def _client(settings: Settings, url: str, **timeouts) -> redis.Redis:
    """A client quick to give up on a plain Redis (polling takes over); through Sentinel, the shared one,
    which follows the master."""
    return redis_client(settings, url) if url.startswith("sentinel://") else _plain_client(url, **timeouts)


def notify_public_servers(settings: Settings) -> int | None:
    """A live surface switched (committed): tell every public server. Returns how many listened, None
    without a notifier. A notifier that is down is logged, never an error: the servers poll meanwhile."""
    url = notify_url(settings)
    if url is None:
        return None
    try:
        return _client(settings, url, socket_connect_timeout=1, socket_timeout=1).publish(CHANNEL, b"switched")
    except redis.RedisError as exc:
        logger.warning("could not announce a surface switch (public servers will poll): %s", exc)
        return None


class Listener:
    """One thread per public server process that keeps `cache` current (see the module's docstring);
    `apply_spooled(kind, payload)` replays what the spool kept once the database answers."""

    def __init__(self, settings: Settings, cache: SurfaceCache, spool: Spool | None = None, apply_spooled=None):
        self.settings, self.cache, self.spool, self.apply_spooled = settings, cache, spool, apply_spooled
        self.url = notify_url(settings)
        self.listening = threading.Event()  # subscribed to the notifier right now
        self.turns = 0  # times the database was asked (for tests and the bench)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="surfaces-listener", daemon=True)

    def start(self) -> "Listener":
        self.cache.pushed = True
        self._turn()  # the documents before the first request, or the spool's last snapshot
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.cache.pushed = False

    def _turn(self) -> bool:
        self.turns += 1
        try:
            up = self.cache.poll()
        except Exception:  # noqa: BLE001 - the database down at start with no snapshot kept; or a bug
            logger.exception("could not read the public documents")
            self.cache.pushed = False  # requests ask for themselves (and fail visibly) until it works
            return False
        self.cache.pushed = True
        if up and self.spool is not None and self.apply_spooled is not None:
            try:
                self.spool.replay(self.apply_spooled)
            except Exception:  # noqa: BLE001 - the database went again mid-replay: next turn
                logger.exception("replaying the spool stopped; the rest is kept for the next turn")
        return up

    def _wait(self) -> float:
        """How long to wait for an announcement before asking the database anyway."""
        behind = self.cache.database_down or not self.cache.pushed or (
            self.spool is not None and self.spool.pending_count() > 0)
        return self.settings.public_poll_seconds if behind else SAFETY_NET_SECONDS

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self._subscribe()
            if pubsub is None:
                self._stop.wait(self.settings.public_poll_seconds)
                if not self._stop.is_set():
                    self._turn()
                continue
            try:
                self._turn()  # whatever switched while nobody listened
                while not self._stop.is_set():
                    message, until = None, time.monotonic() + self._wait()
                    while message is None and not self._stop.is_set() and time.monotonic() < until:
                        # in slices of a second at most, so that stopping the server is never held up
                        message = pubsub.get_message(ignore_subscribe_messages=True,
                                                     timeout=max(0.0, min(1.0, until - time.monotonic())))
                    while message is not None and pubsub.get_message(ignore_subscribe_messages=True, timeout=0):
                        pass  # several switches at once: one read covers them all
                    if not self._stop.is_set():
                        self._turn()
            except (redis.RedisError, OSError) as exc:
                logger.warning("surface notifier lost (polling every %s s): %s", self.settings.public_poll_seconds,
                               exc)
            finally:
                self.listening.clear()
                try:
                    pubsub.close()
                except (redis.RedisError, OSError):
                    pass

    def _subscribe(self):
        if self.url is None:
            return None
        try:
            client = _client(self.settings, self.url, socket_connect_timeout=1, socket_keepalive=True,
                             health_check_interval=SAFETY_NET_SECONDS)
            pubsub = client.pubsub()
            pubsub.subscribe(CHANNEL)
            pubsub.get_message(timeout=1)  # the subscription's confirmation: the notifier answers
        except (redis.RedisError, OSError):
            return None
        self.listening.set()
        return pubsub
