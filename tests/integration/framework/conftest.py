"""Framework integration fixtures: the framework service over the shared `db_url` (SQLite and
PostgreSQL), with in-memory ministry keys per jurisdiction, so the service is tested without a node."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "node" / "framework" / "data"


class MinistryKeys:
    """Ministry keys per jurisdiction, and a resolver that knows their DID documents."""

    def __init__(self) -> None:
        self.keys: dict[str, object] = {}

    async def __call__(self, jurisdiction: str):
        from node.crypto.keys import KeyPair

        if jurisdiction not in self.keys:
            self.keys[jurisdiction] = KeyPair.generate(controller=f"did:web:{jurisdiction.lower()}.example:ministry", fragment="key-1")
        return self.keys[jurisdiction]

    def resolver(self):
        from node.crypto.did import DidResolver

        documents = {}
        for key in self.keys.values():
            vm = key.verification_method()
            documents[key.controller] = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                                         "id": key.controller, "verificationMethod": [vm], "assertionMethod": [vm["id"]]}
        return DidResolver(documents=documents)


@pytest.fixture
async def fw(db_url, clock):
    """(FrameworkService, MinistryKeys) over the parametrised database."""
    from node.crypto.signer import DocumentSigner
    from node.db.engine import make_engine, make_session_factory
    from node.db.uow import UnitOfWork
    from node.framework.service import FrameworkService
    from node.settings import normalise_database_url

    engine = make_engine(normalise_database_url(db_url))
    factory = make_session_factory(engine)
    signer = DocumentSigner(workers=1)
    keys = MinistryKeys()
    try:
        yield FrameworkService(lambda: UnitOfWork(factory), clock, signer, keys, base_url="http://gt.example"), keys
    finally:
        signer.close()
        await engine.dispose()


ALL_SEED = ("rqf-2026.1-draft", "eqf-2017", "seed/gt-mnc", "seed/co-mnc", "seed/pe-mncp", "seed/cl-mctp", "seed/ie-nfq")


@pytest.fixture
def load(fw):
    """Import bundled data files by name: `await load("rqf-2026.1-draft", "seed/gt-mnc")`; no names: all seed files."""

    async def run(*names: str) -> None:
        for name in names or ALL_SEED:
            await fw[0].import_text((DATA / f"{name}.json").read_text(encoding="utf-8"), "json")

    return run


@pytest.fixture
async def seeded(fw, load):
    """Every seed framework imported and every national mapping published."""
    await load()
    for framework_id in ("gt-mnc", "co-mnc", "pe-mncp", "cl-mctp", "ie-nfq"):
        await fw[0].publish(framework_id)
    return fw
