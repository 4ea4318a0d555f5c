from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from broadcaster.store.db import SCHEMA_REVISION, alembic_config, engine_for, migrate
from broadcaster.store.models import Base


def test_schema_revision_constant_is_alembics_head():
    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == SCHEMA_REVISION


def test_migrations_create_exactly_the_models_tables(database_url):
    tables = set(inspect(engine_for(database_url)).get_table_names())
    assert tables == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}


def test_migrate_twice_is_harmless(database_url):
    assert migrate(database_url) == SCHEMA_REVISION


def test_models_and_migrations_agree(database_url):
    from alembic import command

    command.check(alembic_config(database_url))  # raises if autogenerate would write a migration
