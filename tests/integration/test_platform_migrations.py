"""Migrations: upgrading is idempotent on both databases and the schema matches the ORM models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from node.db.engine import make_engine
from node.db.migrate import current_revisions, head_revisions, upgrade
from node.db.tables import metadata
from node.settings import normalise_database_url


async def test_upgrade_twice_is_a_no_op(db_url):
    await upgrade(db_url)
    await upgrade(db_url)
    assert await current_revisions(db_url) == head_revisions()


async def test_fresh_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert await current_revisions(url) == set()
    await upgrade(url)
    await upgrade(url)
    assert await current_revisions(url) == head_revisions()


async def test_a_bare_sqlite_path_is_accepted(tmp_path):
    path = tmp_path / "plain.sqlite3"
    await upgrade(path)
    assert path.exists() and await current_revisions(str(path)) == head_revisions()


async def test_schema_matches_the_orm(db_url):
    """Tables, columns, types, indexes and constraints the ORM declares are what the migrations built
    (catches a model changed without a migration, in any capability)."""
    engine = make_engine(normalise_database_url(db_url))
    try:
        async with engine.connect() as connection:
            diffs = await connection.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    finally:
        await engine.dispose()
    assert diffs == []


async def test_foundation_tables_exist(db_url):
    engine = make_engine(normalise_database_url(db_url))
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    finally:
        await engine.dispose()
    assert {"identities", "identity_keys", "api_tokens", "alembic_version"} <= names


async def test_unreachable_database_is_a_configuration_error():
    from node.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="cannot connect to the database"):
        await upgrade("postgresql://nobody@127.0.0.1:1/none")
