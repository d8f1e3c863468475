"""A full/partial RPL decision issues a real OB3 credential through the issuance capability."""

import pytest

from node.errors import ValidationFailed

TEMPLATE_ID = "intecap-albanileria-2"


async def assessed_case(cases, institution="intecap"):
    case = await cases.open(institution=institution, template_id=TEMPLATE_ID, given_name="Ana", family_name="López",
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


async def test_cases_aim_at_a_template_of_their_own_institution(services, issuance):
    from node.errors import NotFound
    from node.rpl.wiring import case_service

    cases = case_service(services)
    with pytest.raises(ValidationFailed, match="belongs to intecap"):
        await assessed_case(cases, institution="inti")
    with pytest.raises(NotFound):
        await cases.open(institution="intecap", template_id="no-such-template", given_name="Ana", family_name="López",
                         identifier="ana@example.org", actor="front desk")
    assert await cases.list() == []


async def test_decision_time_check_refuses_a_foreign_template_and_records_nothing(services, issuance):
    """Even if a case got past the opening check, issuing re-checks and nothing is recorded on failure."""
    from node.rpl.case_service import CaseService
    from node.rpl.wiring import issue_through_issuance

    cases = CaseService(services.uow, services.clock, issue_through_issuance(services))  # no opening check
    case_id = await assessed_case(cases, institution="inti")
    with pytest.raises(ValidationFailed, match="belongs to intecap"):
        await cases.decide(case_id, outcome="full", actor="Marta Quispe", reason="ok")
    assert (await cases.show(case_id))["state"] == "assessed"
