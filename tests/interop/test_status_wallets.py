"""Status as the verifiers people use read it (issue 8, item 6), from npm, against a real node on 127.0.0.1.

- @digitalcredentials/verifier-core: behind VerifierPlus and the Learner Credential Wallet. It reads one
  bit at statusListIndex of every BitstringStatusListEntry and ignores statusSize; each entry becomes a
  log step named after its purpose (`revocation_status`, `suspension_status`), false when the bit is set.
  It verifies eddsa-rdfc-2022 only (it has no jcs suite).
- @digitalbazaar/vc-bitstring-status-list 2.x with @digitalbazaar/vc: both cryptosuites; reports each entry's
  bit (`status`) and whether the check could run (`verified`; a set bit is not a failed check there).

Cases: fresh -> valid; a neighbour on the same list revoked -> still valid; revoked -> revoked; and for an
institution with suspension on: suspended -> suspended, unsuspended -> valid again.
"""

from __future__ import annotations

import json

import pytest

from node.issuance.lists import Allocation

TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"], "validity": "P5Y",
}
CASES = [("verifier-core", "eddsa-rdfc-2022"), ("digitalbazaar", "eddsa-rdfc-2022"), ("digitalbazaar", "eddsa-jcs-2022")]


@pytest.fixture
async def issuance(client, services):
    """INTECAP on a node served at its base URL on 127.0.0.1 (the DID documents and lists the verifiers fetch)."""
    from node.issuance.service import IssuanceService

    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [2]})
    await service.create_template(TEMPLATE)
    return service


def person(i: int) -> dict:
    return {"given_name": f"Persona {i}", "family_name": "López", "identifier": f"p{i}@example.org"}


def verdict(out: dict) -> dict:
    """What each verifier concludes about the proof and the status, in one shape."""
    if out["verifier"] == "verifier-core":
        assert out["errors"] == [], out  # fatal errors: bad signature, unresolvable DID, JSON-LD failures
        log = out["log"]
        # one step per entry, named after its purpose: revocation_status, suspension_status
        steps = {step[:-len("_status")]: valid for step, valid in log.items() if step.endswith("_status")}
        assert steps and all(isinstance(v, bool) for v in steps.values()), out  # a step with an error is no verdict
        flagged = sorted(purpose for purpose, valid in steps.items() if valid is False)
        return {"proof": log.get("valid_signature") is True, "status_ok": not flagged, "set": flagged}
    # vc-bitstring-status-list 2.x: `verified` says the check ran (list fetched, signed by the issuer,
    # decoded); each entry's `status` is its bit. A wallet shows the credential valid only with no bit set.
    assert out["error"] is None and out["status"]["error"] is None and out["status"]["verified"] is True, out
    entries = out["status"]["entries"]
    assert entries and all(e["verified"] is True for e in entries), out
    flagged = sorted(e["purpose"] for e in entries if e["status"] is True)
    return {"proof": all(out["proof"]) and bool(out["proof"]), "status_ok": not flagged, "set": flagged}


@pytest.mark.parametrize("verifier,suite", CASES)
async def test_fresh_neighbour_revoked_and_revoked(issuance, js_verifiers, verifier, suite):
    issued = [(await issuance.issue_one(TEMPLATE["id"], person(i), suite=suite)).to_json() for i in range(4)]
    target, neighbours = issued[0], issued[1:]
    assert len({c["credentialStatus"]["statusListCredential"] for c in issued}) == 1  # all on one list

    fresh = verdict(await js_verifiers(verifier, target))
    assert fresh["proof"] and fresh["status_ok"] is True, fresh
    for neighbour in neighbours:
        await issuance.change_status(neighbour["id"], "revoke", "annulled")
    beside = verdict(await js_verifiers(verifier, target))
    assert beside["proof"] and beside["status_ok"] is True, beside  # the neighbours' bits are not its bit
    out = await js_verifiers(verifier, neighbours[0])
    assert verdict(out)["status_ok"] is False, out

    await issuance.change_status(target["id"], "revoke", "fraudulent assessment")
    revoked = verdict(await js_verifiers(verifier, target))
    assert revoked["proof"] and revoked["status_ok"] is False and revoked["set"] == ["revocation"], revoked


@pytest.mark.parametrize("verifier,suite", CASES)
async def test_suspended_and_unsuspended(issuance, js_verifiers, verifier, suite):
    await issuance.set_status_purposes("intecap", suspension=True)
    credential = (await issuance.issue_one(TEMPLATE["id"], person(9), suite=suite)).to_json()
    assert [e["statusPurpose"] for e in credential["credentialStatus"]] == ["revocation", "suspension"]

    assert verdict(await js_verifiers(verifier, credential))["status_ok"] is True
    await issuance.change_status(credential["id"], "suspend", "under review")
    suspended = verdict(await js_verifiers(verifier, credential))
    assert suspended["proof"] and suspended["status_ok"] is False and suspended["set"] == ["suspension"], suspended
    await issuance.change_status(credential["id"], "unsuspend")
    assert verdict(await js_verifiers(verifier, credential))["status_ok"] is True


async def test_verifier_core_schema_check_passes_the_default_credential_and_flags_the_two_entry_one(
        issuance, js_verifiers):
    """The documented trade-off, as the wallet shows it: its OB 3.0 schema check (additional information,
    not part of the verdict) passes a credential with the one revocation entry and flags credentialStatus
    of one with revocation + suspension entries."""
    plain = (await issuance.issue_one(TEMPLATE["id"], person(1))).to_json()
    out = await js_verifiers("verifier-core", plain)
    assert [r["valid"] for r in out["schema"]] == [True], out["schema"]
    await issuance.set_status_purposes("intecap", suspension=True)
    both = (await issuance.issue_one(TEMPLATE["id"], person(2))).to_json()
    out = await js_verifiers("verifier-core", both)
    assert out["log"]["valid_signature"] is True and out["log"]["revocation_status"] is True
    assert out["log"]["suspension_status"] is True
    [result] = out["schema"]
    assert result["valid"] is False and any(e.startswith("/credentialStatus") for e in result["errors"]), result


async def message_credentials(issuance, services, indexes: list[int]) -> list[dict]:
    """Credentials as issued under migration 0005: one 2-bit "message" entry each, at the given indexes of
    one "message" list (chosen, so that the test knows which entry's bits a 1-bit reader lands on)."""
    import uuid

    from node.issuance import ob3
    from node.issuance.model import ACTIVE, make_recipient
    from node.issuance.orm import CredentialRow
    from node.issuance.repository import IssuanceRepository
    from node.issuance.status_list import MESSAGE

    now = services.clock.now()
    out = []
    async with services.uow() as uow:
        repo = IssuanceRepository(uow.session)
        institution = await repo.institution("intecap")
        template = await repo.template(TEMPLATE["id"])
        key = await services.keystore.signing_key(institution.did)
        listing = await issuance.lists._create(repo, "intecap", institution.did, MESSAGE, key, now)
        for index in indexes:
            credential_uuid = str(uuid.uuid4())
            entry = Allocation(listing.id, index, MESSAGE).entry(issuance.base_url)
            signed = await services.signer.sign(ob3.build_credential(
                template=template, institution=institution, recipient=make_recipient("Ana", "López", f"{index}@example.org", "s"),
                credential_id=ob3.credential_url(issuance.base_url, credential_uuid), issued_at=now,
                credential_status=entry, base_url=issuance.base_url), key, suite="eddsa-rdfc-2022", created=now)
            repo.add(CredentialRow(
                id=credential_uuid, uri=signed["id"], institution="intecap", template_id=TEMPLATE["id"],
                idempotency_key=credential_uuid, document=json.dumps(signed), digest="0" * 64, issued_at=now,
                state=ACTIVE, status_list=listing.id, status_index=index))
            out.append(signed)
        await uow.commit()
    return out


async def test_the_finding_verifier_core_misreads_2bit_message_entries(issuance, services, js_verifiers):
    """Why new credentials carry 1-bit entries, and what the issuer guide tells holders of 0005 credentials:
    verifier-core reads bit i for entry i of a 2-bit list (entry i is bits 2i and 2i+1). A revoked credential
    at 1001 reads valid there; a valid one at 1003 reads revoked once the credential at 501 (bits 1002, 1003)
    is revoked. The node itself reads both right."""
    from node.issuance.verify import verify_credential

    revoked, valid, neighbour = await message_credentials(issuance, services, [1001, 1003, 501])

    async def node_says(credential):
        result = await verify_credential(services, credential)
        return [(c.ok, c.reason) for c in result.checks if c.check == "status"]

    await issuance.change_status(revoked["id"], "revoke", "annulled")
    await issuance.change_status(neighbour["id"], "revoke", "annulled")
    assert await node_says(revoked) == [(False, "revoked")] and await node_says(valid) == [(True, None)]
    seen_revoked = await js_verifiers("verifier-core", revoked)
    seen_valid = await js_verifiers("verifier-core", valid)
    assert seen_revoked["log"]["message_status"] is True  # shown valid, though revoked
    assert seen_valid["log"]["message_status"] is False  # shown revoked, though valid


async def test_verifier_core_cannot_check_eddsa_jcs_2022(issuance, js_verifiers):
    """What the issuer guide warns about: verifier-core has no eddsa-jcs-2022 suite, so a jcs-signed
    credential is not shown as verified there (the default rdfc suite is)."""
    credential = (await issuance.issue_one(TEMPLATE["id"], person(3), suite="eddsa-jcs-2022")).to_json()
    out = await js_verifiers("verifier-core", credential)
    assert [e["name"] for e in out["errors"]] == ["invalid_signature"], out
