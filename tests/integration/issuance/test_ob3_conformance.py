"""Every credential issuance publishes validates against the UNMODIFIED 1EdTech OB 3.0 schema (the
conformance copy, not the bundled file), with format checking, by jsonschema and by the fastjsonschema
fast path; its one `credentialStatus` is a 1-bit "revocation" entry; and a revoked or suspended credential
fails the `status` check with that reason."""

import json

import fastjsonschema
import pytest
from jsonschema import Draft201909Validator

from node.issuance.batch import BatchIssuer, file_digest, read_rows
from node.issuance.schema import is_valid_fast, schema_errors

ROW = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}
TEMPLATE = "intecap-albanileria-2"


@pytest.fixture
def assert_conformant(conformance_dir):
    schema = json.loads((conformance_dir / "openbadges" / "schemas" / "achievementcredential.json").read_text())
    authoritative = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    fast = fastjsonschema.compile(dict(schema, **{"$schema": "http://json-schema.org/draft-07/schema#"}))

    def check(document):
        assert [e.message for e in authoritative.iter_errors(document)] == []
        fast(document)  # raises on any violation
        assert is_valid_fast(document) and schema_errors(document) == []
        status = document["credentialStatus"]
        assert isinstance(status, dict) and status["statusPurpose"] == "revocation"
        assert "statusSize" not in status and "statusMessage" not in status  # one bit, as every verifier reads it
        assert status["id"] == f"{status['statusListCredential']}#{status['statusListIndex']}"

    return check


async def test_single_credentials_in_both_suites(issuance, assert_conformant):
    for suite, given in (("eddsa-rdfc-2022", "Ana"), ("eddsa-jcs-2022", "Ana María")):
        issued = await issuance.issue_one(TEMPLATE, dict(ROW, given_name=given), suite=suite)
        assert_conformant(issued.to_json())
    did = await issuance.issue_one(TEMPLATE, dict(ROW, identifier="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"))
    assert_conformant(did.to_json())


async def test_batch_credentials(issuance, assert_conformant, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name,identifier,activity_end_date,narrative\n"
                    + "".join(f"P{i},X,p{i}@example.org,2026-05-{i + 1:02d},Curso {i}\n" for i in range(12)))
    seen = []
    summary = await BatchIssuer(issuance).run(TEMPLATE, read_rows(path), source_digest=file_digest(path),
                                              suite="eddsa-jcs-2022", chunk_size=5, on_credential=seen.append)
    assert summary.issued == 12 and len(seen) == 12
    for credential in seen:
        assert_conformant(credential.to_json())


async def test_rpl_decision_credentials(services, issuance, assert_conformant):
    from node.rpl.wiring import case_service

    cases = case_service(services)
    case = await cases.open(institution="intecap", template_id=TEMPLATE, given_name="Ana", family_name="López",
                            identifier="ana@example.org", actor="front desk")
    for state in ("guidance", "eligibility", "identification", "documentation"):
        await cases.advance(case["id"], state, actor="coordinator", reason="next")
    await cases.plan_assessment(case["id"], assessor="Marta Quispe", method="workplace observation", actor="coordinator",
                                reason="ready")
    await cases.advance(case["id"], "assessed", actor="Marta Quispe", reason="observed")
    decided = await cases.decide(case["id"], outcome="full", actor="Marta Quispe", reason="all units shown")
    issued = await issuance.credential(decided["decision"]["credentialId"].rsplit("/", 1)[-1])
    document = issued.to_json()
    assert document.get("evidence")
    assert_conformant(document)


async def test_status_check_reads_the_revocation_and_suspension_entries(issuance, verifier):
    def status_of(result):
        return [(c.ok, c.reason) for c in result.checks if c.check == "status"]

    await issuance.set_status_purposes("intecap", suspension=True)
    credential = (await issuance.issue_one(TEMPLATE, ROW)).to_json()
    check = verifier()
    assert status_of(await check.verify(credential)) == [(True, None)]
    await issuance.change_status(credential["id"], "suspend", "review")
    assert status_of(await check.verify(credential)) == [(False, "suspended")]
    await issuance.change_status(credential["id"], "unsuspend")
    assert status_of(await check.verify(credential)) == [(True, None)]
    await issuance.change_status(credential["id"], "suspend", "review")
    await issuance.change_status(credential["id"], "revoke", "annulled")
    assert status_of(await check.verify(credential)) == [(False, "revoked")]
