"""The node's dependencies, built once and passed in (no globals, no service locator).

`open_services(settings)` is used by both the HTTP app (inside its cleanup_ctx) and the CLI, so a
command and a request run the same use cases against the same wiring.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import AsyncIterator

from node.clock import Clock, SystemClock
from node.db.engine import engine_for, make_session_factory
from node.db.uow import UnitOfWork
from node.settings import Settings


@dataclass
class NodeServices:
    settings: Settings
    clock: Clock
    engine: object  # sqlalchemy AsyncEngine
    session_factory: object  # async_sessionmaker
    signer: object  # node.crypto.signer.DocumentSigner
    keystore: object  # node.keystore.KeyStore
    resolver: object  # node.crypto.did.DidResolver
    outbound: object = None  # node.outbound.OutboundClient: every request the node makes to other hosts
    verified_documents: object = None  # node.verification.pipeline.VerifiedDocuments: status lists verified recently

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)


@contextlib.asynccontextmanager
async def open_services(settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> AsyncIterator[NodeServices]:
    """Open the database (applying migrations), the key store and the signer; close them after."""
    from node.crypto.did import DidResolver
    from node.crypto.signer import DocumentSigner
    from node.db.migrate import upgrade
    from node.keystore import KeyStore
    from node.outbound import FetchPolicy, OutboundClient
    from node.verification.pipeline import VerifiedDocuments

    if migrate:
        await upgrade(settings.db_url)
    engine = engine_for(settings)  # pool sizes from settings (PUENTE_DB_POOL_SIZE, ...)
    session_factory = make_session_factory(engine)
    clock = clock or SystemClock()
    signer = DocumentSigner(workers=settings.workers)
    outbound = OutboundClient(FetchPolicy.parse(settings.fetch_allow))
    try:
        keystore = KeyStore(settings, session_factory, clock=clock)
        if migrate:  # at start: key files of a node from before key custody are sealed into the database once
            await keystore.import_key_files()
        resolver = DidResolver(local=keystore.resolve_local,
                               local_refresh=lambda did: keystore.resolve_local(did, fresh=True))
        yield NodeServices(settings, clock, engine, session_factory, signer, keystore, resolver, outbound,
                           VerifiedDocuments())
    finally:
        await outbound.close()
        signer.close()
        await engine.dispose()
