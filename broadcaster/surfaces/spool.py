"""The public server's own durable memory, a SQLite file beside it (BROADCASTER_PUBLIC_SPOOL_PATH), for
when the database is down:

- the last snapshot it served, so a public server restarted during the outage still answers with the
  last approved words;
- what callers and texters asked that it could not store: a call-back request (pressing 1), an SMS
  STOP or START. Each is appended in one committed transaction before the caller hears "recorded",
  and replayed in order once the database answers again (`replay`), then deleted. Replaying twice is
  harmless: a call-back asked for twice is one request, a STOP applied twice one opt-out.

Several public processes may share one file: SQLite serialises the writers, and a replay holds the
write lock from reading the entries to deleting them, so no entry is applied by two processes.
"""

import json
import logging
import pickle
import sqlite3
import threading
from pathlib import Path

from ..store.models import utcnow
from .snapshot import Snapshot

logger = logging.getLogger("broadcaster.surfaces")

SCHEMA = ("CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
          "payload TEXT NOT NULL, created_at TEXT NOT NULL)",
          "CREATE TABLE IF NOT EXISTS last_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), body BLOB NOT NULL)")
CALLBACK, SMS_KEYWORD = "callback", "sms_keyword"


class Spool:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        self._known_empty = False  # a cheap answer for the listener's every turn
        with self._connect() as db:
            for statement in SCHEMA:
                db.execute(statement)
        self.path.chmod(0o600)  # callers' numbers
        self._known_empty = not self.pending_count()

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._local.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # "recorded" is said only once it is on disk
        return db

    # --- what could not be stored ---

    def record(self, kind: str, **payload) -> None:
        db = self._connect()
        db.execute("INSERT INTO pending (kind, payload, created_at) VALUES (?, ?, ?)",
                   (kind, json.dumps(payload), utcnow().isoformat()))
        self._known_empty = False
        logger.warning("database unreachable: %s spooled to %s for replay", kind, self.path)

    def pending(self) -> list[tuple[int, str, dict]]:
        rows = self._connect().execute("SELECT id, kind, payload FROM pending ORDER BY id").fetchall()
        return [(row_id, kind, json.loads(payload)) for row_id, kind, payload in rows]

    def pending_count(self) -> int:
        return self._connect().execute("SELECT count(*) FROM pending").fetchone()[0]

    def replay(self, apply) -> int:
        """`apply(kind, payload)` each entry in order, deleting each once applied; stops at the first
        that fails (the database went again) and leaves it and the rest for the next turn."""
        if self._known_empty:
            return 0
        db = self._connect()
        done = 0
        db.execute("BEGIN IMMEDIATE")  # one replayer at a time across the processes sharing the file
        try:
            for row_id, kind, payload in [(r, k, json.loads(p)) for r, k, p in
                                          db.execute("SELECT id, kind, payload FROM pending ORDER BY id")]:
                apply(kind, payload)
                db.execute("DELETE FROM pending WHERE id = ?", (row_id,))
                done += 1
        finally:
            db.execute("COMMIT")  # what was applied is deleted, even when a later entry failed
        self._known_empty = not self.pending_count()
        if done:
            logger.warning("replayed %d spooled request(s) from %s", done, self.path)
        return done

    # --- the last snapshot served ---

    def keep_snapshot(self, snapshot: Snapshot) -> None:
        body = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        self._connect().execute("INSERT OR REPLACE INTO last_snapshot (id, body) VALUES (1, ?)", (body,))

    def last_snapshot(self) -> Snapshot | None:
        """The snapshot this file was last given (written by this server only, never from outside)."""
        row = self._connect().execute("SELECT body FROM last_snapshot WHERE id = 1").fetchone()
        try:
            return pickle.loads(row[0]) if row else None  # noqa: S301 - our own file, mode 0600
        except Exception:  # noqa: BLE001 - written by an older version: start without it
            logger.warning("the last snapshot in %s could not be read; ignored", self.path)
            return None
