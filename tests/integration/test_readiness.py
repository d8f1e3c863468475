"""Liveness (/livez) and readiness (/readyz) for an orchestrator, on both databases.

- /livez answers without I/O: a process whose database is gone is live (restarting it would not help).
- /readyz is 200 only when the database answers, its schema is at the code's migration heads, a signing
  worker answers and the node's key loads; otherwise 503 problem+json naming every failed check, with the
  reason for the operator in the log, never an exception's text in the public answer.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest
from sqlalchemy import text

from node.app import create_app
from node.crypto.signer import DocumentSigner
from node.db.engine import make_engine, make_session_factory
from node.errors import ConfigurationError
from node.settings import normalise_database_url

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"


async def test_ready_node_answers_200_with_every_check_ok(client):
    response = await client.get("/readyz")
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok",
                                                                   "signing": "ok", "keys": "ok"}}
    live = await client.get("/livez")
    assert live.status == 200 and await live.json() == {"status": "live"}
    assert (await client.get("/health")).status == 200  # the older endpoint keeps working


async def test_unreachable_database_is_live_but_not_ready(aiohttp_client, settings, services):
    broken = dataclasses.replace(services, engine=make_engine(UNREACHABLE))
    client = await aiohttp_client(create_app(settings, services=broken))
    try:
        assert (await client.get("/livez")).status == 200
        response = await client.get("/readyz")
        assert response.status == 503
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert problem["type"].endswith("/not-ready") and problem["status"] == 503
        assert problem["checks"]["database"] == "unreachable" and problem["checks"]["migrations"] == "unknown"
        assert problem["checks"]["keys"] == "ok" and problem["checks"]["signing"] == "ok"
        assert "database" in problem["detail"] and "nobody" not in await response.text()
    finally:
        await broken.engine.dispose()


async def _alembic(services, statement: str, **params) -> None:
    async with services.engine.begin() as connection:
        await connection.execute(text(statement), params)


async def test_database_behind_the_code_is_not_ready(client, services):
    from node.db.migrate import head_revisions

    head = sorted(head_revisions())[-1]
    await _alembic(services, "DELETE FROM alembic_version WHERE version_num = :v", v=head)
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        checks = (await response.json())["checks"]
        assert checks["database"] == "ok" and checks["migrations"].startswith("migrations pending")
    finally:
        await _alembic(services, "INSERT INTO alembic_version (version_num) VALUES (:v)", v=head)
    assert (await client.get("/readyz")).status == 200


async def test_database_ahead_of_the_code_is_not_ready(client, services):
    await _alembic(services, "INSERT INTO alembic_version (version_num) VALUES ('9999_from_newer_code')")
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        assert "newer code" in (await response.json())["checks"]["migrations"]
    finally:
        await _alembic(services, "DELETE FROM alembic_version WHERE version_num = '9999_from_newer_code'")


async def test_unusable_key_is_not_ready_and_an_error_log_line_names_the_did(aiohttp_client, settings, services, caplog):
    keystore = services.keystore

    class BrokenKeys:  # the real keystore, except that the node's key cannot be loaded (file gone, wrong master key)
        node_did = keystore.node_did

        async def signing_key(self, did):
            raise ConfigurationError(f"key {did}#key-1 is unusable: secret-internal-detail")

    client = await aiohttp_client(create_app(settings, services=dataclasses.replace(services, keystore=BrokenKeys())))
    caplog.set_level(logging.INFO, logger="node")
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.text()
    problem = await response.json()
    assert problem["checks"]["keys"].startswith("the node's signing key is unusable")
    assert problem["checks"]["database"] == "ok" and "secret-internal-detail" not in body
    errors = [r for r in caplog.records if r.getMessage() == "key_unusable"]
    assert errors and errors[0].levelno == logging.ERROR and errors[0].fields["did"] == keystore.node_did


async def test_closed_signing_workers_are_not_ready(aiohttp_client, settings, services):
    signer = DocumentSigner(workers=1)
    signer._executor().close()  # the pool is shut (node stopping, workers unable to start)
    client = await aiohttp_client(create_app(settings, services=dataclasses.replace(services, signer=signer)))
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["signing"] == "workers unavailable"


async def test_readiness_starts_and_uses_a_real_worker(services):
    from node.http.readiness import readiness

    signer = DocumentSigner(workers=1)
    try:
        checks = await readiness(dataclasses.replace(services, signer=signer))
        assert checks["signing"] == "ok" and len(signer.worker_pids()) == 1  # a worker process answered
    finally:
        signer.close()


@pytest.mark.parametrize("db_backend", ["postgres"], indirect=True)  # SQLite keeps its own pool
async def test_an_exhausted_pool_is_a_503_to_retry_not_a_500(aiohttp_client, settings, services, caplog):
    small = make_engine(normalise_database_url(settings.database_url), pool_size=1, max_overflow=0, pool_timeout=0.2)
    client = await aiohttp_client(create_app(settings, services=dataclasses.replace(
        services, engine=small, session_factory=make_session_factory(small))))
    caplog.set_level(logging.INFO, logger="node")
    try:
        async with small.connect() as held:  # the pool's only connection, held as a long request would
            await held.execute(text("SELECT 1"))
            response = await client.get("/institutions")
            assert response.status == 503 and response.headers["Retry-After"] == "1"
            problem = await response.json()
            assert problem["type"].endswith("/database-busy")
            assert [r.levelno for r in caplog.records if r.getMessage() == "database_pool_exhausted"] == [logging.WARNING]
        assert (await client.get("/institutions")).status == 200  # released: served again
    finally:
        await small.dispose()
