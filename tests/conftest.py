"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and settings pointing at it.

Store and use-case tests take ``settings`` and run once per backend. PostgreSQL is the
server named by BROADCASTER_TEST_POSTGRES_URL (default: the local one, database `test`);
each pytest worker gets a database of its own, migrated once and truncated between tests.
"""

import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from broadcaster.config import Settings
from broadcaster.delivery import pause
from broadcaster.store.db import engine_for, migrate


def _keep_compiled_bytecode() -> None:
    """Under PYTHONDONTWRITEBYTECODE every process of the run compiled the project from source again:
    each xdist worker its ~400 test modules with their asserts rewritten (11 s of CPU a worker to
    collect, 5.5 s from cached bytecode), each `celery worker` and CLI subprocess the package. The run
    keeps its bytecode instead, outside the checkout (the tree stays as clean as the variable meant),
    and its subprocesses inherit where: this conftest is read before xdist starts its workers."""
    if not (sys.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE")):
        return
    prefix = sys.pycache_prefix or os.environ.get("PYTHONPYCACHEPREFIX") or str(
        Path(tempfile.gettempdir()) / "broadcaster-test-pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


_keep_compiled_bytecode()

pytest_plugins = ["tests.run_order"]  # the longest tests first


POSTGRES_URL = os.environ.get("BROADCASTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


from tests.harness import TEST_SECRET_KEY, wait_until  # noqa: E402 - one key for tests, workers and benchmarks


def pytest_configure(config):
    """argon2id at its smallest cost in this process: the recommended parameters take a quarter of a
    second a hash and a check, and the suite logs in and sets PINs thousands of times. A stored hash
    is argon2id all the same, and any process checking it reads the cost from the hash itself."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    PasswordHash.recommended = classmethod(lambda cls: cheap)
    _build_the_command_line_once()


def _build_the_command_line_once() -> None:
    """Typer builds the Click command tree of `broadcaster` from its registrations on every call (23 ms:
    every command's signature read again), and the tests call the command in-process hundreds of
    times. The commands are registered as `broadcaster.cli` is imported and never after, and a Click
    command keeps nothing of one invocation for the next: the tree is built once, on first use. A
    throwaway Typer app is built as before."""
    import typer.main
    import typer.testing

    build, built = typer.main.get_command, {}

    def get_command(typer_instance):
        cli = sys.modules.get("broadcaster.cli.common")
        if cli is None or typer_instance is not cli.app:
            return build(typer_instance)
        if "broadcaster" not in built:
            built["broadcaster"] = build(typer_instance)
        return built["broadcaster"]

    typer.main.get_command = typer.testing._get_command = get_command


_MOCKS_STARTING: list = []


def pytest_sessionstart(session):
    """The xdist controller starts the providers' mocks in the background (tests/integration/provider_mocks.py)
    while its workers start, so the contract tests find them answering instead of each waiting for them."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from tests.integration.provider_mocks import start_in_background

    run_dir = config._tmp_path_factory.getbasetemp()
    starting = start_in_background(run_dir, list(config.args))
    if starting is not None:
        _MOCKS_STARTING.append((run_dir, starting))


def pytest_sessionfinish(session):
    from tests.integration.provider_mocks import stop_if_unused

    while _MOCKS_STARTING:
        stop_if_unused(*_MOCKS_STARTING.pop())


class _GivenSettings(Settings):
    """`Settings` read from the keyword arguments alone: what `Settings` makes of them when no variable
    names a field (`_env_file=None` reads no .env, and there is no secrets folder). Building the
    environment's source for ~150 fields is most of a `Settings`: 5-7 ms, this 1 ms, and the suite makes
    one or more a test."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings,)


# The variables `Settings` reads, as it matches them (case-insensitively: pydantic-settings lowers both).
_FIELD_VARIABLES = frozenset(f"{Settings.model_config['env_prefix']}{name}".lower() for name in Settings.model_fields)


def make_settings(database_url: str, **overrides) -> Settings:
    # A public server's spool of its own, never a file in the working directory.
    spool = Path(os.environ.get("TMPDIR", "/tmp")) / "broadcaster-test-spools" / f"{uuid.uuid4().hex}.sqlite3"
    # A test that sets a field's variable (monkeypatch.setenv) gets the environment read as always.
    cls = Settings if any(name.lower() in _FIELD_VARIABLES for name in os.environ) else _GivenSettings
    return cls(_env_file=None, database_url=database_url,
               **{"secret_key": TEST_SECRET_KEY, "public_spool_path": spool, **overrides})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file; each test copies it (a migration per test would be slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite:///{path}")
    engine_for(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database(worker_id) -> str:
    admin_url = make_url(POSTGRES_URL)
    name = f"broadcaster_test_{worker_id}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            # Commits without waiting for the WAL's flush to disk: 0.25 ms a commit instead of 0.5-0.7 here,
            # and a test commits a hundred times. Nothing here outlives a crash of the shared server; the
            # failover tests, which crash servers, start their own.
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:  # the server is down or refuses us
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {admin_url.render_as_string()}: {exc}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    engine_for(url).dispose()
    if url in _EMPTIERS:
        _EMPTIERS.pop(url)[0].dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def fresh_database_url(backend: str, request, tmp_path: Path) -> str:
    if backend == "sqlite":
        return sqlite_copy_url(request.getfixturevalue("sqlite_template"), tmp_path)
    url = request.getfixturevalue("postgres_database")
    engine, emptying = _emptier(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(emptying)
    pause.forget_cached(url)  # the URL of the test before: what it cached of paused channels is not this one's
    return url


def sqlite_copy_url(source: Path, tmp_path: Path) -> str:
    """A copy of the SQLite file `source` for this test, at the one path this pytest process gives every
    test's copy, so every test reaches it through one URL and so one engine (`engine_for`). An engine
    compiles each SQL statement once and keeps it: with a file (an engine) per test, every test compiled
    all its statements again, a tenth of a small test's CPU. The previous test's file is gone first: the
    engine's pooled connections to it closed, the file and its WAL and shared-memory files removed (a
    connection still open elsewhere keeps the removed file, never this one). `tmp_path` is under the
    process's temporary folder (pytest's basetemp), where the copy is kept."""
    path = tmp_path.parent / "fresh-copy.db"
    url = f"sqlite:///{path}"
    engine_for(url).dispose()
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        (path.parent / name).unlink(missing_ok=True)
    shutil.copy(source, path)
    pause.forget_cached(url)
    return url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's SQLite copy is kept beside its tmp_path (the next test's copy takes its path), and the
    report says where, to open with `sqlite3` after the run."""
    report = yield
    url = getattr(item, "funcargs", {}).get("database_url", "")
    if report.failed and url.endswith("/fresh-copy.db") and "tmp_path" in item.funcargs:
        kept = item.funcargs["tmp_path"] / f"failed-{report.when}.db"
        with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(kept) as copy:
            source.backup(copy)  # what the WAL holds too
        report.sections.append(("kept database", str(kept)))
    return report


# Publish refuses, rightly, a "tomorrow at 00:20" submitted before a midnight of the statement's zone and
# published after it (read on the day it names). A test that drafts "next update in 30m", submits and
# publishes across that turn failed for it alone (CI runs at any hour; provoked at 23:59:59.7, some twenty
# tests). The tests about that turn give the product its moments (test_statement_times.py); the others do
# not start in an hour's last seconds: every zone the tests use turns its day on a UTC hour. Cost: at most
# HOUR_TURN_MARGIN seconds a worker an hour. (A module's seeded file can still be older than the turn.)
HOUR_TURN_MARGIN = 10.0


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the test's first fixture (a module's seeded file submits and publishes too): out of the last
    HOUR_TURN_MARGIN seconds before an hour's turn, waiting for the turn if need be."""
    if 3600 - time.time() % 3600 < HOUR_TURN_MARGIN:
        wait_until(lambda: time.time() % 3600 < HOUR_TURN_MARGIN, HOUR_TURN_MARGIN + 5, "the hour's turn", poll=0.02)


_EMPTIERS: dict[str, tuple] = {}


def _emptier(url: str) -> tuple:
    """(an engine kept for the session, the SQL that empties the database): DELETE from every table
    and every sequence restarted, in one round trip. TRUNCATE of two dozen tables took 0.4-0.6 s a
    test here (it rewrites every table's files), DELETE of the few rows a test leaves 0.04 s. A replica
    session fires no triggers: the append-only tables' guards and the foreign keys' checks alike, so
    the order does not matter. The tables are the database's own (any table a migration adds)."""
    if url not in _EMPTIERS:
        engine = engine_for(url)
        with engine.connect() as connection:
            tables = connection.execute(text(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version' ORDER BY tablename")).scalars().all()
            sequences = connection.execute(text(
                "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = current_schema()"
            )).scalars().all()
        _EMPTIERS[url] = (engine, "SET LOCAL session_replication_role = replica;"
                          + "".join(f"DELETE FROM {table};" for table in tables)
                          + "".join(f"ALTER SEQUENCE {sequence} RESTART;" for sequence in sequences))
    return _EMPTIERS[url]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    if backend == "sqlite" and "redis_broker" in request.fixturenames:
        return kept_sqlite_url(request)
    return fresh_database_url(backend, request, tmp_path)


def kept_sqlite_url(request) -> str:
    """The SQLite database of the tests that may take `celery worker` processes kept from an earlier test
    (tests/integration/worker_pools.py): one file per pytest process, since a worker reads its database
    URL once, emptied between tests as the PostgreSQL one is, since a kept worker has it open (a copy over
    it would corrupt what the worker has cached of it). The append-only tables' triggers refuse a DELETE:
    they are dropped and made again in the same transaction."""
    path = request.getfixturevalue("tmp_path_factory").getbasetemp() / "kept-workers.db"
    if not path.exists():
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    pause.forget_cached(f"sqlite:///{path}")
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)  # foreign keys off: any order
    try:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'alembic_version'")]
        triggers = [(name, sql) for name, sql in connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")]
        connection.executescript(
            "BEGIN IMMEDIATE;" + "".join(f'DROP TRIGGER "{name}";' for name, _ in triggers)
            + "".join(f'DELETE FROM "{table}";' for table in tables)
            + "".join(f"{sql};" for _, sql in triggers) + "COMMIT;")
    finally:
        connection.close()
    return f"sqlite:///{path}"


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url)


REDIS_URL = os.environ.get("BROADCASTER_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_broker(worker_id) -> str:
    """A Redis database of this pytest worker's own, emptied: the broker and the rate limiter. Kombu's
    queue bindings stay: `celery worker` processes kept from test to test (worker_pools.py) declared
    them once, at their start, and a producer finds no queue for a task without them."""
    import redis

    index = {"main": 1}.get(worker_id) or 2 + int(worker_id.removeprefix("gw") or 0)
    url = f"{REDIS_URL}/{index}"
    client = redis.Redis.from_url(url)
    try:
        _empty_but_bindings(client)
    except redis.ConnectionError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    yield url
    _empty_but_bindings(client)
    client.close()


def _empty_but_bindings(client) -> None:
    keys = [key for key in client.scan_iter(count=1000) if not key.startswith(b"_kombu.binding.")]
    if keys:
        client.delete(*keys)


def actor(settings: Settings, name: str):
    """The user `name` as the actor a use case takes (the CLI and web app authenticate their own)."""
    from broadcaster.people.users import actor_named

    return actor_named(settings, name)


def add_user(settings: Settings, name: str, roles: list[str], **contact) -> dict:
    """Add a user as the admin `root`, who is added first if there is no user yet (only an admin
    adds users once one exists)."""
    from broadcaster.people import users

    if not users.has_users(settings):
        users.add_user(settings, None, "root", ["admin"])
    return users.add_user(settings, actor(settings, "root"), name, roles, **contact)


@pytest.fixture(autouse=True)
def _fresh_login_limits():
    """Each test counts login attempts and audited refusals from zero (the embedded counters live
    in the process)."""
    from broadcaster import usecase

    usecase._counters.cache_clear()
    yield


def add_subscriber(settings: Settings, components=(), **addresses) -> dict:
    """Add a subscriber as the admin `root` (added first if there is no user yet)."""
    from broadcaster.audience import subscribers
    from broadcaster.people import users

    if not users.has_users(settings):
        users.add_user(settings, None, "root", ["admin"])
    return subscribers.add_subscriber(settings, actor(settings, "root"), components, **addresses)
