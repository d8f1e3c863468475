"""Alembic environment, bundled with the package.

`node.db.migrate` hands us an open sync connection (from an async engine, via `run_sync`) in
`config.attributes["connection"]`; that is the only path the node uses. Running the `alembic`
command directly also works: then we open our own async engine from `sqlalchemy.url`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text

from node.db.tables import metadata

config = context.config


def _run(connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=is_sqlite,  # SQLite cannot ALTER most things; batch mode rebuilds the table
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes starting at once (serve + a CLI command) must not both run DDL.
            connection.execute(text("SELECT pg_advisory_xact_lock(7274598311)"))
        context.run_migrations()


def _run_online_standalone() -> None:
    from node.db.engine import make_engine
    from node.settings import normalise_database_url

    async def run() -> None:
        engine = make_engine(normalise_database_url(config.get_main_option("sqlalchemy.url")))
        try:
            async with engine.connect() as connection:
                await connection.run_sync(_run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    _run_online_standalone()
