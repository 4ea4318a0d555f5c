"""The public documents, cached in-process, so a traffic spike during an outage does not become
a database spike.

For `public_cache_seconds` the cached bytes are served without asking the database at all.
After that one cheap query (`switch_marker`) asks whether a live surface switched; only then are
the documents read and rendered again. With 0 seconds every request asks, and still renders
only after a switch. The documents are also rebuilt every few minutes whatever happens, so the
90-day history slides, and the moment a resolved banner's time is up (`banner_resolved_minutes`).
"""

import threading
import time
from datetime import datetime, timedelta

from ..config import Settings
from ..store.models import utcnow
from .documents import Document, render_documents
from .site_banner import expires_at
from .snapshot import Snapshot, switch_marker, take_snapshot

REBUILD_AT_LEAST_EVERY_SECONDS = 300.0


class SurfaceCache:
    def __init__(self, settings: Settings, clock=time.monotonic, wall_clock=utcnow):
        self.settings = settings
        self.clock = clock
        self.wall_clock = wall_clock
        self._expires: datetime | None = None  # when the documents go stale by the clock alone
        self._lock = threading.Lock()
        self._documents: dict[str, Document] | None = None
        self._snapshot: Snapshot | None = None
        self._marker: tuple | None = None
        self._checked_at = self._built_at = float("-inf")

    def fresh(self) -> dict[str, Document] | None:
        """The cached documents if they are young enough to serve without asking; else None."""
        if self._documents is not None and self.clock() - self._checked_at < self.settings.public_cache_seconds \
                and not self._expired():
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
            now = self.clock()
            marker = switch_marker(self.settings)
            if (self._documents is None or marker != self._marker or self._expired()
                    or now - self._built_at >= REBUILD_AT_LEAST_EVERY_SECONDS):
                snapshot, wall = take_snapshot(self.settings), self.wall_clock()
                self._documents = render_documents(self.settings, snapshot, wall)
                self._expires = expires_at(snapshot, wall, timedelta(minutes=self.settings.banner_resolved_minutes))
                self._snapshot = snapshot
                self._marker, self._built_at = snapshot.marker, now
            self._checked_at = now
            return self._documents
