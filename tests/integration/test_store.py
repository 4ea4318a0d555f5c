import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from broadcaster.domain.errors import BroadcasterError
from broadcaster.store.db import SCHEMA_REVISION, alembic_config, engine_for, migrate, require_current_schema
from broadcaster.store.schema import Base


def test_schema_revision_constant_is_alembics_head():
    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == SCHEMA_REVISION


def test_migrations_create_exactly_the_models_tables(database_url):
    tables = set(inspect(engine_for(database_url)).get_table_names())
    assert tables == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}


def test_asking_for_a_sqlite_database_that_is_not_there_leaves_no_file_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'broadcaster.db'}"
    with pytest.raises(BroadcasterError, match="no Broadcaster database at .*: run `broadcaster init` first"):
        require_current_schema(url)
    assert list(tmp_path.iterdir()) == []  # a later `init` is not told a database is there


def test_a_new_sqlite_database_is_its_owner_s_alone(tmp_path):
    path = tmp_path / "broadcaster.db"
    assert migrate(f"sqlite:///{path}") == SCHEMA_REVISION
    engine_for(f"sqlite:///{path}").dispose()
    assert path.stat().st_mode & 0o777 == 0o600  # subscribers' addresses, password hashes


def test_migrate_twice_is_harmless(database_url):
    assert migrate(database_url) == SCHEMA_REVISION


def test_models_and_migrations_agree(database_url):
    from alembic import command

    command.check(alembic_config(database_url))  # raises if autogenerate would write a migration


@pytest.fixture
def empty_database_url(backend, tmp_path):
    """A database with no schema at all, to migrate step by step."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.conftest import POSTGRES_URL

    name = f"broadcaster_upgrade_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    engine_for(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrading_turns_unsent_call_backs_into_call_deliveries(empty_database_url):
    # Before 0009 a call back to an IVR caller was an `ivr` delivery to their number; after it the
    # `ivr` surface is only switched, so such a row left as `ivr` would be logged sent, never dialled.
    from alembic import command
    from sqlalchemy import text

    command.upgrade(alembic_config(empty_database_url), "0008")
    with engine_for(empty_database_url).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # no statement rows needed
        else:
            connection.execute(text("PRAGMA foreign_keys = OFF"))
        for target in ("ivr", "+14155550100"):
            connection.execute(text(
                "INSERT INTO deliveries (statement_id, channel, target, provider, status, attempts, created_at, "
                "updated_at) VALUES (1, 'ivr', :target, 'twilio', 'pending', 0, '2026-11-01', '2026-11-01')"),
                {"target": target})
    engine_for(empty_database_url).dispose()

    assert migrate(empty_database_url) == SCHEMA_REVISION
    with engine_for(empty_database_url).connect() as connection:
        rows = dict(connection.execute(text("SELECT target, channel FROM deliveries")).all())
    assert rows == {"ivr": "ivr", "+14155550100": "call"}
