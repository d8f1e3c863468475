"""RPL integration fixtures: the RPL services wired over a real database (SQLite and PostgreSQL).

The database URL comes from the shared `db_url` fixture (tests/conftest.py) when it exists; these
fixtures only add what RPL needs: ministry keys for several jurisdictions and a pinned clock.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest

from node.clock import FixedClock

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
PG_URL = os.environ.get("PUENTE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _create_pg_database(name: str) -> str | None:
    import asyncpg

    base, _, _ = PG_URL.rpartition("/")
    try:
        conn = await asyncpg.connect(base.replace("postgresql://", "postgresql://", 1) + "/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{base}/{name}"


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    base, _, _ = PG_URL.rpartition("/")
    conn = await asyncpg.connect(base + "/postgres", timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def rpl_db_url(request, tmp_path):
    """A fresh, migrated database of each kind (skips PostgreSQL when unreachable unless CI=true)."""
    from node.db.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rpl.sqlite3'}"
        await upgrade(url)
        yield url
        return
    name = f"puente_rpl_{uuid.uuid4().hex[:12]}"
    url = await _create_pg_database(name)
    if url is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is unreachable")
        pytest.skip("PostgreSQL is unreachable")
    try:
        await upgrade(url)
        yield url
    finally:
        await _drop_pg_database(name)


class MinistryKeys:
    """Ministry keys per jurisdiction, and their DID documents for the resolver."""

    def __init__(self) -> None:
        from node.crypto.keys import KeyPair

        self._make = lambda j: KeyPair.generate(controller=f"did:web:{j.lower()}.example:ministry", fragment="key-1")
        self.keys: dict[str, object] = {}

    async def __call__(self, jurisdiction: str):
        if jurisdiction not in self.keys:
            self.keys[jurisdiction] = self._make(jurisdiction)
        return self.keys[jurisdiction]

    def documents(self) -> dict[str, dict]:
        out = {}
        for key in self.keys.values():
            vm = key.verification_method()
            out[key.controller] = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                                   "id": key.controller, "verificationMethod": [vm], "assertionMethod": [vm["id"]]}
        return out

    def resolver(self):
        from node.crypto.did import DidResolver

        return DidResolver(documents=self.documents())


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
async def rpl(rpl_db_url, clock):
    """(ReadinessService, MinistryKeys, uow factory) over the parametrised database."""
    from node.crypto.signer import DocumentSigner
    from node.db.engine import make_engine, make_session_factory
    from node.db.uow import UnitOfWork
    from node.rpl.readiness_service import ReadinessService
    from node.settings import normalise_database_url

    engine = make_engine(normalise_database_url(rpl_db_url))
    factory = make_session_factory(engine)
    signer = DocumentSigner(workers=1)
    keys = MinistryKeys()
    uow = lambda: UnitOfWork(factory)  # noqa: E731
    try:
        yield ReadinessService(uow, clock, signer, keys), keys, uow
    finally:
        signer.close()
        await engine.dispose()
