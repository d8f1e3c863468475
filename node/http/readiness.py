"""Readiness of one serving process, for an orchestrator or a reverse proxy (`GET /readyz`).

Ready means this process can issue now: the database answers within a short timeout, its schema is at the
migrations' heads (a process started from newer code than the database, or the reverse, is not ready), the
signing workers answer, and the node's own signing key can be loaded. Each check has its own timeout, so a
probe answers in bounded time whatever hangs; every check's outcome is reported ("ok" or why not), never an
exception's text (a public endpoint must not echo internals: details go to the log).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from node.logging import get_logger, log_event

DATABASE_TIMEOUT = 2.0  # seconds; a database slower than this cannot serve a request in time anyway
SIGNING_TIMEOUT = 5.0  # the first probe starts the worker pool (forkserver + preload)
KEYS_TIMEOUT = 2.0
OK = "ok"

_log = get_logger("node.readiness")


@functools.lru_cache(maxsize=1)
def _heads() -> frozenset[str]:
    from node.db.migrate import head_revisions

    return frozenset(head_revisions())  # the code's migrations: read once per process


async def readiness(services: Any) -> dict[str, str]:
    """{"database", "migrations", "signing", "keys"} → "ok" or a short reason; checks run concurrently."""
    (database, migrations), signing, keys = await asyncio.gather(
        _database(services.engine), _signing(services.signer), _keys(services.keystore))
    checks = {"database": database, "migrations": migrations, "signing": signing, "keys": keys}
    if any(outcome != OK for outcome in checks.values()):
        log_event(_log, "not_ready", level=logging.WARNING, **checks)
    return checks


async def _database(engine: Any) -> tuple[str, str]:
    from sqlalchemy import text

    async def revisions() -> set[str]:
        async with engine.connect() as connection:
            return {row[0] for row in await connection.execute(text("SELECT version_num FROM alembic_version"))}

    try:
        current = await asyncio.wait_for(revisions(), DATABASE_TIMEOUT)
    except asyncio.TimeoutError:
        return f"no answer within {DATABASE_TIMEOUT:g} s", "unknown"
    except Exception as exc:  # unreachable, refused, no such table: not ready, whatever the driver raised
        log_event(_log, "readiness_database_failed", level=logging.WARNING, error=type(exc).__name__)
        return "unreachable", "unknown"
    heads = _heads()
    if current == heads:
        return OK, OK
    if current - heads:
        return OK, "the database is at revisions this code does not know (newer code migrated it)"
    return OK, "migrations pending (run puente db upgrade, or start one process that migrates)"


async def _signing(signer: Any) -> str:
    try:
        await asyncio.wait_for(signer.probe(SIGNING_TIMEOUT), SIGNING_TIMEOUT + 1)
        return OK
    except asyncio.TimeoutError:
        return f"no worker answered within {SIGNING_TIMEOUT:g} s"
    except Exception as exc:
        log_event(_log, "readiness_signing_failed", level=logging.WARNING, error=type(exc).__name__)
        return "workers unavailable"


async def _keys(keystore: Any) -> str:
    try:
        await asyncio.wait_for(keystore.signing_key(keystore.node_did), KEYS_TIMEOUT)
        return OK
    except asyncio.TimeoutError:
        return f"the node's key could not be read within {KEYS_TIMEOUT:g} s"
    except Exception as exc:  # missing, corrupt, undecryptable: the detail is for the operator's log only
        log_event(_log, "key_unusable", level=logging.ERROR, did=keystore.node_did, error=type(exc).__name__,
                  detail=getattr(exc, "detail", "")[:200])
        return "the node's signing key is unusable (see the log)"
