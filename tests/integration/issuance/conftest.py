import pytest

from node.issuance.service import IssuanceService

INTECAP_TEMPLATE = {
    "id": "intecap-albanileria-2",
    "institution": "intecap",
    "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.",
    "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc",
    "national_level": "2",
    "rqf_level": 2,
    "sector": "construction",
    "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"],
    "validity": "P5Y",
}


@pytest.fixture
async def issuance(services):
    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction", "hospitality"],
                                                                    "rqf_levels": [1, 2, 3, 4]})
    await service.create_template(INTECAP_TEMPLATE)
    return service


@pytest.fixture
def verifier(services):
    """The node's credential pipeline with the issuance status stage (own lists from the database;
    others through the node's outbound client unless offline)."""
    from node.issuance.status_check import make_status_check
    from node.verification.pipeline import CredentialVerifier

    def make(offline=False):
        return CredentialVerifier(services.signer, services.resolver, services.clock, status=make_status_check(services),
                                  outbound=None if offline else services.outbound)

    return make
