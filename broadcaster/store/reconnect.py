"""Riding out a PostgreSQL failover or restart: which errors mean "the database went away" (and not
"the statement is wrong"), and how long each process waits for it to come back.

A multi-host URL with `target_session_attrs=read-write` lets libpq find the primary among the hosts:

    postgresql+psycopg://user:pass@/broadcaster?host=db1:5432&host=db2:5432&target_session_attrs=read-write

Every pooled connection is pinged when it is taken (`pool_pre_ping`); a transaction that cannot get a
connection waits for one, up to `BROADCASTER_DATABASE_RETRY_SECONDS`; the writes a process must not
lose (a send's outcome) are run again when the database dropped them mid-way, up to
`BROADCASTER_DATABASE_RETRIES` times. SQLite is one file on one disk: nothing to fail over to.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError

from ..config import Settings

# SQLSTATEs of a server that is going, gone or not yet a primary: admin/crash shutdown, cannot connect
# now (starting up, in recovery), read-only transaction (a primary demoted, or a standby still),
# connection exceptions (class 08).
TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "25006", "08000", "08001", "08003", "08004", "08006"})


@dataclass(frozen=True)
class Budget:
    retries: int = 3
    seconds: float = 20.0


_budgets: dict[str, Budget] = {}


def configure(settings: Settings) -> None:
    """Take this process's retry budget from its settings (every entry point calls it)."""
    _budgets[settings.database_url] = Budget(settings.database_retries, settings.database_retry_seconds)


# Whether a transaction begun here waits for the database: not in the public server's requests, which
# answer from their last snapshot or spool what they cannot store (a provider's webhook gives up in 15 s).
_waiting: ContextVar[bool] = ContextVar("broadcaster_database_wait", default=True)


@contextmanager
def without_waiting() -> Iterator[None]:
    token = _waiting.set(False)
    try:
        yield
    finally:
        _waiting.reset(token)


def waits() -> bool:
    return _waiting.get()


class NeverWait:
    """ASGI middleware: the requests of this app never wait for a database failing over."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        with without_waiting():
            await self.app(scope, receive, send)


def budget(url: str) -> Budget:
    return _budgets.get(url, Budget())


def fails_over(url: str) -> bool:
    return url.startswith("postgresql")


def is_transient(exc: BaseException) -> bool:
    """The database went away or is not the primary: trying again on a fresh connection may succeed,
    and nothing of the failed transaction was kept."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return True
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
    return isinstance(exc, OperationalError) and sqlstate is None


def pause(attempt: int, deadline: float) -> bool:
    """Sleep before attempt `attempt` + 1 (0.25 s doubling to 2 s); False if the deadline has passed."""
    wait = min(0.25 * 2 ** attempt, 2.0)
    if time.monotonic() + wait > deadline:
        return False
    time.sleep(wait)
    return True
