"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


# A database error's message carries the statement's parameters (names, identifiers); the 500 handler logs
# tracebacks, so parameters stay out of every error the engine raises: no personal data in the logs.
_PRIVATE = {"hide_parameters": True}


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, pool_timeout: float = 30.0) -> AsyncEngine:
    """An engine for `url`. The pool numbers apply to PostgreSQL (PUENTE_DB_POOL_SIZE, PUENTE_DB_MAX_OVERFLOW,
    PUENTE_DB_POOL_TIMEOUT through `engine_for`): each process holds up to pool_size + max_overflow
    connections, and a request waits pool_timeout seconds for one before failing. SQLite keeps SQLAlchemy's
    own pool for a file (one connection per thread; writers are serialised by the file lock anyway)."""
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **_PRIVATE)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL lets readers run during a batch write
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow,
                               pool_timeout=pool_timeout, **_PRIVATE)


def engine_for(settings) -> AsyncEngine:
    """The node's engine, sized by its settings (node.settings.Settings)."""
    return make_engine(settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
                       pool_timeout=settings.db_pool_timeout)


def private_sqlite_file(url: str) -> None:
    """The database holds learners' personal data: its file is the node user's only (0600), whether we
    create it now (SQLite would use the umask, typically 0644) or it already existed. SQLite gives its
    -wal and -shm files the database file's mode; existing ones are tightened too."""
    import os

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    if not os.path.isdir(os.path.dirname(os.path.abspath(database))):
        return  # connecting reports the missing directory
    if not os.path.exists(database):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))  # an empty file is an empty database
    for path in (database, database + "-wal", database + "-shm"):
        try:
            if os.path.exists(path) and os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except PermissionError:
            pass  # not ours (e.g. a shared read-only copy): leave it, connecting says what is wrong


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query (for /health); never raises."""
    from sqlalchemy import text

    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not healthy"; the caller reports it, it must not crash
        return False
