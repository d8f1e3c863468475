"""A full/partial RPL decision issues a real OB3 credential through the issuance capability."""

import pytest

from node.errors import ValidationFailed

TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"], "validity": "P5Y",
}


@pytest.fixture
async def issuance(services):
    from node.issuance.service import IssuanceService

    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
    await service.create_template(TEMPLATE)
    return service


async def assessed_case(cases, institution="intecap"):
    case = await cases.open(institution=institution, template_id=TEMPLATE["id"], given_name="Ana", family_name="López",
                            identifier="ana@example.org", actor="front desk")
    for state in ("guidance", "eligibility", "identification", "documentation"):
        await cases.advance(case["id"], state, actor="coordinator", reason="next")
    await cases.plan_assessment(case["id"], assessor="Marta Quispe", method="workplace observation", actor="coordinator", reason="ready")
    await cases.advance(case["id"], "assessed", actor="Marta Quispe", reason="observed")
    return case["id"]


async def test_full_decision_issues_a_verifiable_credential(services, issuance):
    from node.rpl.wiring import case_service

    cases = case_service(services)
    case_id = await assessed_case(cases)
    decided = await cases.decide(case_id, outcome="full", actor="Marta Quispe", reason="all units shown")
    uri = decided["decision"]["credentialId"]
    assert uri and uri.startswith("http")
    issued = await issuance.credential(uri.rsplit("/", 1)[-1])
    document = issued.to_json()
    assert document["issuer"]["id"].endswith(":institutions:intecap")
    assert (await services.signer.verify(document, services.resolver)).verified
    evidence = document["evidence"][0]
    assert evidence["id"] == decided["assessment"]["id"] and "Assessor: Marta Quispe" in evidence["description"]


async def test_template_of_another_institution_is_refused_and_nothing_recorded(services, issuance):
    from node.rpl.wiring import case_service

    cases = case_service(services)
    case_id = await assessed_case(cases, institution="inti")
    with pytest.raises(ValidationFailed, match="belongs to intecap"):
        await cases.decide(case_id, outcome="full", actor="Marta Quispe", reason="ok")
    assert (await cases.show(case_id))["state"] == "assessed"
