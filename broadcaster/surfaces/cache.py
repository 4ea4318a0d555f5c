"""The public documents, cached in-process, so a traffic spike during an outage does not become
a database spike, and a database outage does not become a status-page outage.

Two ways to keep them current:

- pushed (the public server: `Listener` in freshness.py keeps them): a switch of a live surface
  is announced, the listener reads and renders the documents once, in its own thread, and
  requests are served from memory without ever asking the database;
- on demand (the full app; any server with `public_cache_seconds` 0, which asks the database
  on every request whether a surface switched): for `public_cache_seconds` the cached bytes are served
  without asking; after that one cheap query (`switch_marker`) asks whether a live surface
  switched, and only then are the documents read and rendered again.

Either way the documents are also rebuilt every few minutes, so the 90-day history slides, and
the moment a resolved banner's time is up (`banner_resolved_minutes`). While the database cannot
be reached the last documents are served, re-rendered from the last snapshot when the clock
alone changes them; a public server that starts during an outage takes the snapshot its spool
kept (spool.py).
"""

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..config import Settings
from ..store.models import utcnow
from .documents import Document, render_documents
from .site_banner import expires_at
from .snapshot import Snapshot, switch_marker, take_snapshot
from .spool import Spool

REBUILD_AT_LEAST_EVERY_SECONDS = 300.0
DATABASE_DOWN = (DBAPIError, PoolTimeout)  # what an unreachable database raises, through SQLAlchemy
logger = logging.getLogger("broadcaster.surfaces")


class SurfaceCache:
    def __init__(self, settings: Settings, clock=time.monotonic, wall_clock=utcnow, spool: Spool | None = None):
        self.settings = settings
        self.clock = clock
        self.wall_clock = wall_clock
        self.spool = spool  # keeps the last snapshot for a restart during an outage
        self.pushed = False  # a Listener keeps the documents current: requests never ask the database
        self.database_down = False
        self._expires: datetime | None = None  # when the documents go stale by the clock alone
        self._lock = threading.Lock()
        self._documents: dict[str, Document] | None = None
        self._snapshot: Snapshot | None = None
        self._marker: tuple | None = None
        self._checked_at = self._built_at = float("-inf")

    def fresh(self) -> dict[str, Document] | None:
        """The cached documents if they can be served without asking; else None."""
        if self._documents is None or self._expired():
            return None
        age = self.settings.public_cache_seconds
        if (self.pushed and age > 0) or self.clock() - self._checked_at < age:
            return self._documents
        return None

    def _expired(self) -> bool:
        return self._expires is not None and self.wall_clock() >= self._expires

    def documents(self) -> dict[str, Document]:
        """The current documents (blocking: may query the database; call it off the event loop)."""
        cached = self.fresh()
        if cached is not None:
            return cached
        return self._refresh()

    def snapshot(self) -> Snapshot:
        """The snapshot the current documents were made from (the IVR reads it)."""
        if self.fresh() is None:
            self._refresh()
        return self._snapshot

    def _refresh(self) -> dict[str, Document]:
        with self._lock:  # one refresh at a time; the others wait and take its result
            cached = self.fresh()
            if cached is not None:
                return cached
            self._check_or_keep()
            return self._documents

    def poll(self) -> bool:
        """Read the documents again if a live surface switched (the listener's turn); False while the
        database cannot be reached (the last documents stay)."""
        with self._lock:
            return self._check_or_keep()

    def _check_or_keep(self) -> bool:
        now = self.clock()
        try:
            marker = switch_marker(self.settings)
            if (self._documents is None or marker != self._marker or self._expired()
                    or now - self._built_at >= REBUILD_AT_LEAST_EVERY_SECONDS):
                self._install(take_snapshot(self.settings), now, keep=marker != self._marker)
        except DATABASE_DOWN as exc:
            self._checked_at = now  # asked again after public_cache_seconds, or the listener's next turn
            if not self.database_down:
                logger.error("database unreachable; serving the last snapshot: %s", str(exc).splitlines()[0])
            self.database_down = True
            self._keep_serving(now, exc)
            return False
        if self.database_down:
            logger.warning("database reachable again")
        self.database_down = False
        self._checked_at = now
        return True

    def _keep_serving(self, now: float, error: Exception) -> None:
        """The database is down: the last snapshot (this process's, else the spool's), its documents
        rendered again if the clock alone changed them. With neither, the error stands."""
        snapshot = self._snapshot or (self.spool.last_snapshot() if self.spool else None)
        if snapshot is None:
            raise error
        if self._documents is None or self._expired():
            self._install(snapshot, now, keep=False)

    def _install(self, snapshot: Snapshot, now: float, keep: bool) -> None:
        wall = self.wall_clock()
        self._documents = render_documents(self.settings, snapshot, wall)
        self._expires = expires_at(snapshot, wall, timedelta(minutes=self.settings.banner_resolved_minutes))
        self._snapshot = snapshot
        self._marker, self._built_at = snapshot.marker, now
        if keep and self.spool is not None:
            try:
                self.spool.keep_snapshot(snapshot)
            except Exception:  # noqa: BLE001 - a full local disk must not stop the page
                logger.exception("could not keep the snapshot in %s", self.spool.path)
