"""Shared test fixtures. Every database test runs on SQLite AND PostgreSQL.

Fixtures
--------
conformance_dir   Path to the public test vectors carried in the repository: tests/conformance/data (sources,
                  licences and SHA-256 of every file in tests/conformance/PROVENANCE.md). Nothing outside the
                  checkout is read; a checkout without them FAILS (never skips) the tests that use them.
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
make_node         async factory for multi-node tests: `gt = await make_node("GT")` starts another node (own data dir,
                  own database on the same backend, own real server on 127.0.0.1:<port>, shared `clock`) and
                  returns RunningNode(settings, services, client, url, did, ministry_did).
auth_headers      async factory -> {"Authorization": "Bearer ..."} for a fresh token of a named person, a role and a scope:
                  `await auth_headers("issuer", institution="intecap")` (the institution must exist),
                  `await auth_headers("ministry")` (jurisdiction defaults to the node's, GT; or jurisdiction="CO"
                  for a ministry this node hosts), `await auth_headers("operator")`. The subject defaults to
                  "test-<role>"; pass subject="Ana López" to name the person (two-person rules compare subjects).
                  An issuer token without institution= acts for no institution (a legacy token's state).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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


CONFORMANCE_DATA = REPO / "tests" / "conformance" / "data"


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    # In the repository, so a fresh clone with nothing beside it runs every test; a missing copy is a
    # broken checkout and fails (a skip would let the suite pass without the vectors).
    if not (CONFORMANCE_DATA / "contexts" / "index.json").is_file():
        pytest.fail(f"conformance vectors not found at {CONFORMANCE_DATA}: the checkout is incomplete", pytrace=False)
    return CONFORMANCE_DATA


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


class _PostgresServer:
    """The session's PostgreSQL databases: `puente_test_<random>_<n>`, each created and migrated on first
    use (n=0 for `db_url`, 1.. for extra nodes of `make_node`), emptied before every test that uses it,
    dropped at the end of the session."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.prefix = f"puente_test_{uuid.uuid4().hex[:12]}"
        self.tables: dict[int, list[str]] = {}  # deletion order per database

    def url(self, index: int) -> str:
        return _with_database(self.server_url, f"{self.prefix}_{index}")

    async def acquire(self, index: int) -> str:
        """A migrated, empty database."""
        from node.db.migrate import upgrade

        if index not in self.tables:
            await _admin(self.server_url, f'CREATE DATABASE "{self.prefix}_{index}"')
            self.tables[index] = []  # registered before migrating, so a failure still drops it
            await upgrade(self.url(index))
            self.tables[index] = _deletion_order(await _public_tables(self.url(index)))
        else:
            await self._empty(index)
        return self.url(index)

    async def _empty(self, index: int) -> None:
        """DELETE in dependency order (children first): on small tables ~20x faster than TRUNCATE, which
        rewrites every table's files. Needs a superuser (the default `postgres`) to bypass triggers
        (append-only guards on audit tables); otherwise falls back to TRUNCATE."""
        import asyncpg

        tables = self.tables[index]
        conn = await asyncpg.connect(_plain(self.url(index)))
        try:
            try:
                await conn.execute("SET session_replication_role = replica")  # this session only
            except asyncpg.InsufficientPrivilegeError:
                await conn.execute(f"TRUNCATE {', '.join(_quote(t) for t in tables)} CASCADE")
                return
            async with conn.transaction():
                for table in tables:
                    await conn.execute(f"DELETE FROM {_quote(table)}")
        finally:
            await conn.close()

    async def drop_all(self) -> None:
        for index in self.tables:
            await _admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.prefix}_{index}" WITH (FORCE)')


def _deletion_order(existing: list[str]) -> list[str]:
    from node.db.tables import metadata

    known = [t.name for t in reversed(metadata.sorted_tables) if t.name in existing]
    return [t for t in existing if t not in known] + known


@pytest.fixture(scope="session")
def _postgres_server():
    server_url = os.environ.get("PUENTE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        asyncio.run(_admin(server_url, "SELECT 1"))
    except Exception as exc:  # OSError when nothing listens; asyncpg errors for auth or a missing database
        message = f"PostgreSQL unreachable at {server_url}: {type(exc).__name__}: {exc}"
        if _in_ci():
            pytest.fail(message + " (CI=true requires PostgreSQL)", pytrace=False)
        pytest.skip(message)
    server = _PostgresServer(server_url)
    try:
        yield server
    finally:
        asyncio.run(server.drop_all())


@pytest.fixture
def db_url(db_backend, request, tmp_path) -> str:
    # Synchronous on purpose: the session fixtures it pulls in lazily run asyncio.run(), which cannot
    # happen inside the test's event loop.
    if db_backend == "sqlite":
        path = tmp_path / "puente.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    return asyncio.run(request.getfixturevalue("_postgres_server").acquire(0))


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
def node(settings, clock):
    """An initialised node on disk (as after `puente init`), for tests that drive the CLI in-process."""
    import asyncio

    from node.node_setup import setup_identities
    from node.services import open_services

    async def setup():
        async with open_services(settings, clock, migrate=False) as opened:
            await setup_identities(opened)

    asyncio.run(setup())
    return settings


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
    from node.db.orm import ApiToken
    from node.tokens import TOKEN_PREFIX, create_token, digest

    async def make(role: str, subject: str | None = None, *, institution: str | None = None,
                   jurisdiction: str | None = None, actor: str | None = None) -> dict[str, str]:
        if actor is not None:  # DEPRECATED (before tokens had scopes): an issuer's actor was its institution
            if role == "issuer" and institution is None:
                institution = actor if await _institution_exists(services, actor) else None
            else:
                subject = subject or actor
        subject = subject or f"test-{role}"
        if role == "ministry" and jurisdiction is None:
            jurisdiction = services.settings.jurisdiction
        async with services.uow() as uow:
            if role == "issuer" and institution is None:  # no scope: as a legacy token whose actor named none
                import secrets

                token = TOKEN_PREFIX + secrets.token_urlsafe(32)
                uow.session.add(ApiToken(digest=digest(token), role=role, subject=subject, created_at=services.clock.now()))
                await uow.commit()
            else:
                token = await create_token(uow, services.clock, role=role, subject=subject, jurisdiction=jurisdiction,
                                           institution=institution)
        return {"Authorization": f"Bearer {token}"}

    return make


async def _institution_exists(services, slug: str) -> bool:
    from sqlalchemy import select

    from node.db.orm import Identity

    async with services.uow() as uow:
        return await uow.session.scalar(select(Identity.did).where(Identity.path == f"institutions/{slug}")) is not None


@dataclasses.dataclass
class RunningNode:
    """One node of a multi-node test: its settings, services, a client on its real server, and its DIDs."""

    settings: object
    services: object
    client: object  # aiohttp TestClient; client.make_url("/x") is the absolute URL
    url: str
    did: str
    ministry_did: str


@pytest.fixture
def _database_source(db_backend, request):
    """The SQLite template path or the PostgreSQL server, resolved outside the event loop (see db_url)."""
    return request.getfixturevalue("_sqlite_template" if db_backend == "sqlite" else "_postgres_server")


@pytest.fixture
async def make_node(db_backend, _database_source, tmp_path, clock, aiohttp_client):
    from node.app import create_app
    from node.node_setup import setup_identities
    from node.services import open_services
    from node.settings import load_settings, write_config

    stack = contextlib.AsyncExitStack()
    made: list[RunningNode] = []

    async def make(jurisdiction: str, name: str | None = None) -> RunningNode:
        index = len(made) + 1
        data_dir = tmp_path / f"node-{index}-{jurisdiction.lower()}"
        if db_backend == "sqlite":
            data_dir.mkdir(parents=True)
            shutil.copyfile(_database_source, data_dir / "puente.sqlite3")
            url = f"sqlite:///{data_dir / 'puente.sqlite3'}"
        else:
            url = await _database_source.acquire(index)
        port = free_port()
        configured = load_settings(environ={}, data_dir=data_dir, database_url=url, jurisdiction=jurisdiction,
                                   name=name or f"Test node ({jurisdiction.upper()})",
                                   base_url=f"http://127.0.0.1:{port}", port=port)
        write_config(configured)
        opened = await stack.enter_async_context(open_services(configured, clock, migrate=False))
        await setup_identities(opened)
        client = await aiohttp_client(create_app(configured, clock=clock, services=opened), server_kwargs={"port": port})
        node = RunningNode(configured, opened, client, f"http://127.0.0.1:{port}", opened.keystore.node_did,
                           opened.keystore.ministry_did)
        made.append(node)
        return node

    try:
        yield make
    finally:
        for node in made:
            await node.client.close()
        await stack.aclose()
