"""Shared test fixtures. Every database test runs on SQLite AND PostgreSQL.

Fixtures
--------
conformance_dir   Path to the public test vectors: $PUENTE_CONFORMANCE_DIR, else ../shared/conformance next to
                  the repository (skips the test when neither exists).
db_backend        "sqlite" or "postgres"; any test that (indirectly) uses it is parametrised over the backends
                  chosen with `--db=sqlite|postgres|both` (default both). Test ids end in [sqlite]/[postgres].
                  Pin one with @pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True).
db_url            A migrated, EMPTY database for this test:
                  - sqlite: a file in tmp_path, copied from a template migrated once per session;
                  - postgres: one database `puente_test_<random>` per session on $PUENTE_TEST_POSTGRES_URL
                    (default postgresql://postgres@127.0.0.1:5432/test), migrated once, every table emptied
                    before each test, dropped at the end. Unreachable PostgreSQL: skipped, or FAILED when CI=true.
clock             FixedClock at 2026-06-01T12:00:00Z (call clock.advance(days=1) to move it).
settings          Settings of a configured node in tmp_path/"node": jurisdiction GT, name "Test node (GT)",
                  base_url http://127.0.0.1:<free port>, database_url = db_url; node.json written.
services          NodeServices opened on `settings` with `clock`, the node set up by the same code as
                  `puente init` (node + ministry identities with keys, operator token file).
client            aiohttp TestClient talking to a REAL server on 127.0.0.1:<settings.port> running
                  create_app(settings, services=services), so the node's did:web resolves to it.
auth_headers      async factory: `await auth_headers("issuer", actor="intecap")` -> {"Authorization": "Bearer ..."}
                  for a fresh token of that role (ministry | issuer | operator).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]  # tests of the fixtures' own policies (e.g. CI requires PostgreSQL)

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ("sqlite", "postgres")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser):
    parser.addoption("--db", default="both", choices=("sqlite", "postgres", "both"),
                     help="database backends for database tests (default: both)")


def pytest_generate_tests(metafunc):
    explicit = any("db_backend" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if "db_backend" in metafunc.fixturenames and not explicit:  # a test may pin a backend itself
        chosen = metafunc.config.getoption("--db")
        backends = BACKENDS if chosen == "both" else (chosen,)
        metafunc.parametrize("db_backend", backends, indirect=True)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    configured = os.environ.get("PUENTE_CONFORMANCE_DIR")
    path = Path(configured) if configured else REPO.parent / "shared" / "conformance"
    if not path.is_dir():
        pytest.skip(f"conformance vectors not found at {path}: set PUENTE_CONFORMANCE_DIR")
    return path


# -- databases ---------------------------------------------------------------------------------

@pytest.fixture
def db_backend(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    from node.db.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    asyncio.run(upgrade(f"sqlite:///{path}"))
    return path


class _PostgresDatabase:
    """The session's PostgreSQL database. Emptied with DELETE in dependency order (children first):
    on small tables that is ~20x faster than TRUNCATE, which rewrites every table's files. Needs a
    superuser (the default `postgres`) to bypass triggers; otherwise falls back to TRUNCATE."""

    def __init__(self, url: str, tables: list[str]) -> None:
        self.url = url
        self.tables = tables  # deletion order

    async def empty(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(_plain(self.url))
        try:
            try:
                # Replica mode skips triggers (append-only guards on audit tables) for this session only.
                await conn.execute("SET session_replication_role = replica")
            except asyncpg.InsufficientPrivilegeError:
                await conn.execute(f"TRUNCATE {', '.join(_quote(t) for t in self.tables)} CASCADE")
                return
            async with conn.transaction():
                for table in self.tables:
                    await conn.execute(f"DELETE FROM {_quote(table)}")
        finally:
            await conn.close()


def _deletion_order(existing: list[str]) -> list[str]:
    from node.db.tables import metadata

    known = [t.name for t in reversed(metadata.sorted_tables) if t.name in existing]
    return [t for t in existing if t not in known] + known


@pytest.fixture(scope="session")
def _postgres_database():
    from node.db.migrate import upgrade

    server_url = os.environ.get("PUENTE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"puente_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # OSError when nothing listens; asyncpg errors for auth or a missing database
        message = f"PostgreSQL unreachable at {server_url}: {type(exc).__name__}: {exc}"
        if _in_ci():
            pytest.fail(message + " (CI=true requires PostgreSQL)", pytrace=False)
        pytest.skip(message)
    url = _with_database(server_url, name)
    try:
        asyncio.run(upgrade(url))
        tables = asyncio.run(_public_tables(url))
        yield _PostgresDatabase(url, _deletion_order(tables))
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_url(db_backend, request, tmp_path) -> str:
    # Synchronous on purpose: the session fixtures it pulls in lazily run asyncio.run(), which cannot
    # happen inside the test's event loop.
    if db_backend == "sqlite":
        path = tmp_path / "puente.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    database: _PostgresDatabase = request.getfixturevalue("_postgres_database")
    asyncio.run(database.empty())
    return database.url


async def _admin(server_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_plain(server_url), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _public_tables(url: str) -> list[str]:
    import asyncpg

    conn = await asyncpg.connect(_plain(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                "AND tablename <> 'alembic_version' ORDER BY tablename")
        return [r["tablename"] for r in rows]
    finally:
        await conn.close()


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(_plain(url))
    return urlunsplit(parts._replace(path="/" + name))


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# -- the node ----------------------------------------------------------------------------------

@pytest.fixture
def clock():
    from node.clock import FixedClock

    return FixedClock(datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(tmp_path, db_url):
    from node.settings import load_settings, write_config

    port = free_port()
    configured = load_settings(environ={}, data_dir=tmp_path / "node", database_url=db_url, jurisdiction="GT",
                               name="Test node (GT)", base_url=f"http://127.0.0.1:{port}", port=port)
    write_config(configured)
    return configured


@pytest.fixture
async def services(settings, clock):
    from node.node_setup import setup_identities
    from node.services import open_services

    async with open_services(settings, clock, migrate=False) as opened:  # db_url is already migrated
        await setup_identities(opened)
        yield opened


@pytest.fixture
async def client(aiohttp_client, settings, services):
    from node.app import create_app

    return await aiohttp_client(create_app(settings, clock=services.clock, services=services),
                                server_kwargs={"port": settings.port})


@pytest.fixture
def auth_headers(services):
    from node.tokens import create_token

    async def make(role: str, actor: str | None = None) -> dict[str, str]:
        async with services.uow() as uow:
            token = await create_token(uow, services.clock, role=role, actor=actor or f"test-{role}")
        return {"Authorization": f"Bearer {token}"}

    return make
