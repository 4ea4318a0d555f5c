"""Engines, sessions and migrations."""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    literal_column,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..domain.errors import BroadcasterError
from . import reconnect

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision; a test checks it against Alembic's head.
SCHEMA_REVISION = "0024"


@lru_cache(maxsize=16)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A connection is pinged when taken from the pool (a restarted or failed-over server is found
    # before a statement is lost on it); libpq gives up on a host that does not answer in 5 s (the
    # next of a multi-host URL is tried) and on a dead peer in about 11 s (TCP keepalive).
    return create_engine(url, pool_pre_ping=True, connect_args={
        "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
        "keepalives_count": 3, "tcp_user_timeout": 10_000})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the web app read while a worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _new_session(url: str) -> Session:
    # On the engine `engine_for` holds now: a session factory cached beside it could outlive the
    # engine's place in that cache and keep a second pool to the same database.
    return Session(engine_for(url), expire_on_commit=False)


@contextmanager
def transaction(url: str, wait: bool = True) -> Iterator[Session]:
    """One unit of work: committed if the block finishes, rolled back if it raises. On PostgreSQL it
    waits for a connection while the database restarts or fails over (`reconnect`), unless `wait` is
    False (the public surfaces, which answer from their last snapshot rather than wait)."""
    with _connected_session(url, wait) as session:
        yield from _committed(session)


@contextmanager
def write_transaction(url: str) -> Iterator[Session]:
    """A transaction that holds the write lock from its first statement, so what it reads stays
    true until it commits: BEGIN IMMEDIATE on SQLite (whose default transaction takes the lock only
    at the first write); PostgreSQL locks the rows it selects FOR UPDATE."""
    with _connected_session(url) as session:
        lock_for_writing(session)
        yield from _committed(session)


def _committed(session: Session) -> Iterator[Session]:
    # What `session.begin()` does, for a session that may have begun already (on the connection
    # `_connected_session` took).
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


def _connected_session(url: str, wait: bool = True) -> Session:
    """A session holding a live connection (taking one from the pool pings it), its transaction begun.
    While the server is down or not yet the primary, wait for it, up to the process's `reconnect.budget`."""
    session = _new_session(url)
    if not reconnect.fails_over(url) or not wait or not reconnect.waits():
        return session
    deadline = time.monotonic() + reconnect.budget(url).seconds
    attempt = 0
    while True:
        try:
            session.connection()
            return session
        except DBAPIError as exc:
            session.close()
            if not reconnect.is_transient(exc) or not reconnect.pause(attempt, deadline):
                raise
            if getattr(exc.orig, "sqlstate", None) == "25006":  # a standby: find the primary again
                engine_for(url).dispose()
            attempt += 1
            session = _new_session(url)


def retrying(url: str, work: Callable[[], T]) -> T:
    """Run `work` (which opens its own transactions) again when the database dropped it mid-way, up to
    the process's `reconnect.budget` retries. Only for work that is harmless to run twice."""
    attempt = 0
    while True:
        try:
            return work()
        except DBAPIError as exc:
            if not reconnect.fails_over(url) or not reconnect.is_transient(exc) \
                    or attempt >= reconnect.budget(url).retries:
                raise
            engine_for(url).dispose()  # every pooled connection is to the server that went away
            attempt += 1


def lock_for_writing(s: Session) -> None:
    """Make this transaction the database's one writer from here on, so that what it reads next stays
    true until it commits: BEGIN IMMEDIATE on SQLite (unless it has written already, and so holds the
    lock); on PostgreSQL the caller locks the rows it reads (SELECT ... FOR UPDATE)."""
    if s.bind.dialect.name == "sqlite" and not s.connection().connection.dbapi_connection.in_transaction:
        s.connection().exec_driver_sql("BEGIN IMMEDIATE")


def one_of(s: Session, column, ids) -> ColumnElement[bool]:
    """`column IN ids`, written as one array parameter on PostgreSQL (`= ANY(:ids)`). With IN, a
    chunk of a thousand ids is a thousand placeholders: a new statement text each time, which the
    driver parses and the server plans again on every call, and which was most of a send's
    bookkeeping CPU. One array keeps the text the same, so both are done once."""
    ids = list(ids)
    if s.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # loaded only where it is used (see `insert_for`)

        return column == any_(bindparam(None, ids, type_=ARRAY(BigInteger)))
    return column.in_(ids)


def insert_for(s: Session, entity):
    """The INSERT of `entity` with the ON CONFLICT clauses of `s`'s dialect (PostgreSQL's, else SQLite's),
    as `one_of` picks its form by the session. The dialect is imported here, when it is used: a process on
    SQLite never loads the PostgreSQL dialect (tens of milliseconds of every CLI command's start)."""
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(entity)


def random_hex_sql(s: Session) -> ColumnElement[str]:
    """32 random hex characters made by the database, for rows written by INSERT ... SELECT
    (PostgreSQL's gen_random_uuid() uses its strong random source; SQLite's randomblob() a
    ChaCha20 generator seeded by the operating system)."""
    if s.bind.dialect.name == "postgresql":
        return literal_column("replace(gen_random_uuid()::text, '-', '')", String)
    return func.lower(func.hex(func.randomblob(16)))


# Alembic is imported where it is used: every CLI command would otherwise pay for it at start-up.


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> str:
    """Bring the schema to the newest migration; returns the revision now in force. A new SQLite file
    is made readable by its owner alone, as the secret key's file is: it holds subscribers' addresses
    and the users' password hashes (SQLite gives its WAL files the database's permissions)."""
    from alembic import command

    path = sqlite_file(url)
    if path is not None and not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # an empty file is an empty database
    command.upgrade(alembic_config(url), "head")
    return current_revision(url) or ""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or SQLite in memory."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def current_revision(url: str) -> str | None:
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None  # asking SQLite would leave an empty file behind, as if there were a database there
    with engine_for(url).connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def require_current_schema(url: str) -> None:
    current = current_revision(url)
    if current is None:
        raise BroadcasterError(f"no Broadcaster database at {safe_url(url)}: run `broadcaster init` first")
    if current != SCHEMA_REVISION:
        raise BroadcasterError(
            f"the database at {safe_url(url)} is at schema {current}, this version needs {SCHEMA_REVISION}: "
            "run `broadcaster init` to migrate it"
        )


def safe_url(url: str) -> str:
    """The URL without its password, fit for an error message."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
