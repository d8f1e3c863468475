"""RPL decisions tell the truth (issue 8, item 7), on SQLite and PostgreSQL.

- a `partial` decision's credential names only the certified units: JSON, PDF and verification page;
- the decision and its credential commit together (a failure after signing leaves neither);
- an overturned decision revokes its credential, and the case history says so.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from node.issuance.orm import CredentialRow

TEMPLATE_ID = "intecap-albanileria-2"
ASSESSOR, REVIEWER = "Marta Quispe", "Luis Rojas"
WHOLE_QUALIFICATION_OUTCOME = "Levanta muros de block"  # a learning outcome of the template NOT certified below
UNITS = ("U1 Interpreta planos sencillos", "U3 Prepara mezclas")


async def assessed_case(cases, given_name="Ana", family_name="López"):
    case = await cases.open(institution="intecap", template_id=TEMPLATE_ID, given_name=given_name, family_name=family_name,
                            identifier="ana@example.org", actor="front desk")
    for state in ("guidance", "eligibility", "identification", "documentation"):
        await cases.advance(case["id"], state, actor="coordinator", reason="next")
    await cases.plan_assessment(case["id"], assessor=ASSESSOR, method="workplace observation", actor="coordinator", reason="ready")
    await cases.advance(case["id"], "assessed", actor=ASSESSOR, reason="observed")
    return case["id"]


async def credential_count(services) -> int:
    async with services.uow() as uow:
        return (await uow.session.execute(select(func.count()).select_from(CredentialRow))).scalar_one()


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
def cases(services, issuance):
    from node.rpl.wiring import case_service

    return case_service(services)


# -- partial decisions ---------------------------------------------------------------------------


async def test_a_partial_credential_names_only_the_certified_units(services, issuance, cases, client):
    from node.issuance.schema import schema_errors

    case_id = await assessed_case(cases)
    decided = await cases.decide(case_id, outcome="partial", units=UNITS, actor=ASSESSOR, reason="U2 not shown")
    uri = decided["decision"]["credentialId"]
    suffix = uri.rsplit("/", 1)[-1]
    document = (await issuance.credential(suffix)).to_json()
    achievement = document["credentialSubject"]["achievement"]

    # JSON: the name says partial and lists the units; nothing reads as the whole qualification.
    expected = f"Partial: Albañil (nivel 2) — units {UNITS[0]}, {UNITS[1]}"
    assert achievement["name"] == expected and document["name"] == expected
    assert achievement["achievementType"] == "ext:PartialQualification"
    assert achievement["id"] != f"{issuance.base_url}/achievements/{TEMPLATE_ID}"  # not the qualification's id
    assert "humanCode" not in achievement  # the qualification code would claim the whole qualification
    assert not [a for a in achievement.get("alignment", []) if a["targetType"] in ("ceterms:Credential", "ext:RQFLevel", "ext:NationalLevel")]
    narrative = achievement["criteria"]["narrative"]
    assert all(f"- {unit}" in narrative for unit in UNITS) and WHOLE_QUALIFICATION_OUTCOME not in narrative
    assert "not the full qualification" in achievement["description"]
    assert schema_errors(document) == []  # still the unmodified OB 3.0 schema
    assert (await services.signer.verify(document, services.resolver)).verified

    # PDF: the same partial name and units, not the whole qualification's outcomes.
    pdf = await client.get(f"/credentials/{suffix}/credential.pdf")
    text = pdf_text(await pdf.read())
    assert "Reconocimiento parcial" in text and "Partial: Albañil (nivel 2)" in text
    assert all(unit in text for unit in UNITS) and WHOLE_QUALIFICATION_OUTCOME not in text

    # Verification page: says partial and lists the units.
    page = await (await client.get(f"/verify/{suffix}", headers={"Accept": "text/html"})).text()
    assert "Reconocimiento parcial" in page and "Partial: Albañil (nivel 2)" in page
    assert all(unit in page for unit in UNITS)


async def test_a_full_credential_still_names_the_whole_qualification(services, issuance, cases):
    case_id = await assessed_case(cases)
    decided = await cases.decide(case_id, outcome="full", actor=ASSESSOR, reason="all units shown")
    document = (await issuance.credential(decided["decision"]["credentialId"].rsplit("/", 1)[-1])).to_json()
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["name"] == "Albañil (nivel 2)" and achievement["achievementType"] == "Certificate"
    assert WHOLE_QUALIFICATION_OUTCOME in achievement["criteria"]["narrative"]


# -- one transaction ----------------------------------------------------------------------------


async def test_a_failure_after_signing_stores_neither_decision_nor_credential(services, issuance, cases, monkeypatch):
    """The credential is built and signed, then recording the decision fails: nothing may be half-stored."""
    from node.rpl import repository

    case_id = await assessed_case(cases)
    real_append = repository.append_transition
    signed = []
    real_sign_many = services.signer.sign_many

    async def sign_then_remember(*args, **kwargs):
        out = await real_sign_many(*args, **kwargs)
        signed.append(out)
        return out

    async def crash(session, transition):
        if transition.to_state == "decision":
            raise RuntimeError("power cut after signing")
        return await real_append(session, transition)

    monkeypatch.setattr(services.signer, "sign_many", sign_then_remember)
    monkeypatch.setattr(repository, "append_transition", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        await cases.decide(case_id, outcome="full", actor=ASSESSOR, reason="all units shown")
    assert signed, "the failure must come after the credential was signed"
    assert await credential_count(services) == 0
    after = await cases.show(case_id)
    assert after["state"] == "assessed" and after["decision"] is None

    # Once the fault is gone the decision goes through, with exactly one credential.
    monkeypatch.setattr(repository, "append_transition", real_append)
    decided = await cases.decide(case_id, outcome="full", actor=ASSESSOR, reason="all units shown")
    assert decided["decision"]["credentialId"] and await credential_count(services) == 1


# -- appeals ------------------------------------------------------------------------------------


async def decided_and_appealed(cases, outcome="full"):
    case_id = await assessed_case(cases)
    units = UNITS if outcome == "partial" else ()
    decided = await cases.decide(case_id, outcome=outcome, units=units, actor=ASSESSOR, reason="assessed")
    await cases.appeal(case_id, reviewer=REVIEWER, actor="candidate's advocate", reason="the observation was too short")
    return case_id, decided["decision"]["credentialId"]


async def test_an_overturned_decision_revokes_its_credential(services, issuance, cases):
    from node.issuance.verify import verify_credential

    case_id, uri = await decided_and_appealed(cases)
    resolved = await cases.resolve_appeal(case_id, outcome="overturned", actor=REVIEWER, reason="assessor had a conflict of interest")

    status = await issuance.credential_status(uri)
    assert status["state"] == "revoked"
    reason = status["events"][-1]["reason"]
    assert "appeal" in reason and case_id in reason and "overturned" in reason
    last = resolved["history"][-1]
    assert last["to"] == "closed" and last["details"]["appeal_outcome"] == "overturned"
    assert last["details"]["revoked_credential"] == uri
    document = json.loads((await issuance.credential(uri)).document)
    result = (await verify_credential(services, document)).to_json()
    assert result["verified"] is False and any(c.get("reason") == "revoked" for c in result["checks"])


async def test_an_upheld_decision_keeps_its_credential(services, issuance, cases):
    case_id, uri = await decided_and_appealed(cases, outcome="partial")
    resolved = await cases.resolve_appeal(case_id, outcome="upheld", actor=REVIEWER, reason="the assessment stands")
    assert (await issuance.credential_status(uri))["state"] == "active"
    assert "revoked_credential" not in resolved["history"][-1]["details"]


async def test_a_failed_revocation_leaves_the_appeal_open(services, issuance, cases, monkeypatch):
    """Overturn and revocation are one transaction: if the revocation cannot be recorded, neither is the outcome."""
    from node.issuance.service import IssuanceService

    case_id, uri = await decided_and_appealed(cases)

    async def broken(*args, **kwargs):
        raise RuntimeError("status list storage failed")

    monkeypatch.setattr(IssuanceService, "change_status_in", broken)
    with pytest.raises(RuntimeError, match="status list storage failed"):
        await cases.resolve_appeal(case_id, outcome="overturned", actor=REVIEWER, reason="conflict of interest")
    assert (await cases.show(case_id))["state"] == "appeal"
    assert (await issuance.credential_status(uri))["state"] == "active"


async def test_overturning_a_decision_whose_credential_is_already_revoked_closes_the_case(services, issuance, cases):
    case_id, uri = await decided_and_appealed(cases)
    await issuance.change_status(uri, "revoke", "issued to the wrong person")
    resolved = await cases.resolve_appeal(case_id, outcome="overturned", actor=REVIEWER, reason="conflict of interest")
    assert resolved["state"] == "closed" and (await issuance.credential_status(uri))["state"] == "revoked"
    assert resolved["history"][-1]["details"]["revoked_credential"] == uri


async def test_without_a_way_to_revoke_an_overturn_is_refused_not_half_done(services, issuance):
    """Fail closed: a case service that can issue but not revoke refuses to overturn a decision with a credential."""
    from node.errors import InvalidInput
    from node.rpl.case_service import CaseService
    from node.rpl.wiring import issue_through_issuance

    cases = CaseService(services.uow, services.clock, issue_through_issuance(services))  # no revoke_credential
    case_id, uri = await decided_and_appealed(cases)
    with pytest.raises(InvalidInput, match="cannot revoke"):
        await cases.resolve_appeal(case_id, outcome="overturned", actor=REVIEWER, reason="conflict of interest")
    assert (await cases.show(case_id))["state"] == "appeal"
    assert (await issuance.credential_status(uri))["state"] == "active"
