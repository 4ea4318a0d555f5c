"""What every benchmark stands on: a fresh PostgreSQL database, a clean Redis database as broker, real
`celery worker` processes (from tests/harness.py, as the delivery tests use them), and the same words
for every contender. Everything stays on loopback."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# A production install runs compiled bytecode (pip compiles it at install). Where PYTHONDONTWRITEBYTECODE is set
# (this machine sets it), every worker and client the bench starts would compile the project and the provider SDKs
# from source again, inside the timed run: keep the bytecode outside the checkout instead, as the test suite does.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) or sys.dont_write_bytecode:
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "broadcaster-bench-pycache"))
    sys.dont_write_bytecode, sys.pycache_prefix = False, os.environ["PYTHONPYCACHEPREFIX"]
# Everything stays on loopback: never let a proxy variable route the fake's traffic elsewhere.
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name), "127.0.0.1", "localhost"]))

from tests.harness import Workers  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Helpers benchmarking side by side on one machine each name their own (dropped and flushed at start).
DATABASE = os.environ.get("BROADCASTER_BENCH_DATABASE", "broadcaster_bench")


REDIS_URL = os.environ.get("BROADCASTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
LIVE_DELIVERIES = 7  # until publish says: banner, status page, IVR, X, agent desk, Slack, Teams


SEND_THREADS = 8  # Broadcaster's default send_threads, per pool process
POOL = 2  # `celery worker -c 2`


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def scratch_database(backend: str, prefix: str) -> Iterator[str]:
    """A database of its own for one run: a SQLite file in a new folder, or a PostgreSQL database with a
    random name on BROADCASTER_BENCH_POSTGRES's server, dropped at the end. Not migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp()}/{prefix}.db"
        return
    from uuid import uuid4

    from sqlalchemy import create_engine, text

    from broadcaster.store.db import engine_for

    server = os.environ.get("BROADCASTER_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"broadcaster_{prefix}_{uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new, migrated `broadcaster_bench` database, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from broadcaster.store.db import engine_for, migrate

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    with admin.connect() as connection:
        connection.execute(drop)
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    url = make_url(ADMIN_URL).set(database=DATABASE).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


@contextlib.contextmanager
def clean_redis() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@contextlib.contextmanager
def worker_pool() -> Iterator[Workers]:
    with tempfile.TemporaryDirectory(prefix="fanout-bench-") as logs:
        pool = Workers({}, Path(logs))
        try:
            yield pool
        except PublishFailed:
            raise
        except BaseException:
            sys.stderr.write(pool.log_tail()[-6000:] + "\n")
            raise
        finally:
            pool.stop_all()


def renditions(settings, statement_id: int) -> dict[str, dict[str, str]]:
    from sqlalchemy import select

    from broadcaster.store.db import transaction
    from broadcaster.store.models import Rendition

    with transaction(settings.database_url) as s:
        return {r.channel: dict(r.fields) for r in s.scalars(select(Rendition)
                                                             .where(Rendition.statement_id == statement_id))}


class PublishFailed(RuntimeError):
    pass
