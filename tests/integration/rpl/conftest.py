"""RPL integration fixtures: the RPL services wired over the shared `db_url` (SQLite and PostgreSQL),
with in-memory ministry keys for several jurisdictions so services can be tested without a node."""

from __future__ import annotations

import pytest


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
async def rpl(db_url, clock):
    """(ReadinessService, MinistryKeys, uow factory) over the parametrised database."""
    from node.crypto.signer import DocumentSigner
    from node.db.engine import make_engine, make_session_factory
    from node.db.uow import UnitOfWork
    from node.rpl.readiness_service import ReadinessService
    from node.settings import normalise_database_url

    engine = make_engine(normalise_database_url(db_url))
    factory = make_session_factory(engine)
    signer = DocumentSigner(workers=1)
    keys = MinistryKeys()
    uow = lambda: UnitOfWork(factory)  # noqa: E731
    try:
        yield ReadinessService(uow, clock, signer, keys), keys, uow
    finally:
        signer.close()
        await engine.dispose()


class FakeIssuer:
    """Stands in for the issuance service: records each order and returns a credential id."""

    def __init__(self, fail: bool = False) -> None:
        self.orders = []
        self.fail = fail

    async def __call__(self, order, uow=None):  # uow: the case's unit of work (the real issuer stores in it)
        if self.fail:
            from node.errors import ValidationFailed

            raise ValidationFailed("template is outside the institution's accreditation")
        self.orders.append(order)
        return f"urn:uuid:credential-{len(self.orders)}"


@pytest.fixture
async def cases(db_url, clock):
    """(CaseService, FakeIssuer, uow factory) over the parametrised database."""
    from node.db.engine import make_engine, make_session_factory
    from node.db.uow import UnitOfWork
    from node.rpl.case_service import CaseService
    from node.settings import normalise_database_url

    engine = make_engine(normalise_database_url(db_url))
    factory = make_session_factory(engine)
    issuer = FakeIssuer()
    uow = lambda: UnitOfWork(factory)  # noqa: E731
    try:
        yield CaseService(uow, clock, issuer), issuer, uow
    finally:
        await engine.dispose()


TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"], "validity": "P5Y",
}


async def create_intecap(services):
    """The institution and achievement template RPL cases in these tests aim at."""
    from node.issuance.service import IssuanceService

    issuance = IssuanceService.from_services(services)
    await issuance.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
    await issuance.create_template(TEMPLATE)
    return issuance


@pytest.fixture
def make_intecap():
    """create_intecap itself, for sync tests that set the node up with asyncio.run."""
    return create_intecap


@pytest.fixture
async def issuance(services):
    return await create_intecap(services)
