"""Apply the bundled Alembic migrations. Safe at every start: upgrading an up-to-date database is a no-op.

Capability migrations branch from `0001_foundation`, so we always upgrade to `heads`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from node.db.engine import make_engine
from node.errors import ConfigurationError
from node.settings import normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(db_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db_url:
        # ConfigParser interpolation treats % specially (percent-encoded passwords).
        config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return config


def database_url(db_url: str | Path) -> str:
    """An async SQLAlchemy URL from a URL (sqlite:///..., postgresql://...) or a bare SQLite file path."""
    text = str(db_url)
    if "://" not in text:
        return f"sqlite+aiosqlite:///{Path(text).resolve()}"
    return normalise_database_url(text)


async def upgrade(db_url: str | Path, target: str = "heads") -> None:
    """Bring the database at `db_url` (a URL or an SQLite file path) to every head revision."""
    url = database_url(db_url)
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        async with _connect(engine) as connection:
            await connection.run_sync(_upgrade_with, config, target)
            await connection.commit()
    finally:
        await engine.dispose()


def _upgrade_with(connection, config: Config, target: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, target)


@contextlib.asynccontextmanager
async def _connect(engine):
    """Open a connection; an unreachable or missing database is a configuration error, not a crash."""
    try:
        connection = await engine.connect()
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConfigurationError(f"cannot connect to the database: {reason}") from None
    try:
        yield connection
    finally:
        await connection.close()


async def current_revisions(db_url: str | Path) -> set[str]:
    """The revisions the database is at (empty for a blank database)."""
    engine = make_engine(database_url(db_url))
    try:
        async with _connect(engine) as connection:
            return await connection.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
    finally:
        await engine.dispose()


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
