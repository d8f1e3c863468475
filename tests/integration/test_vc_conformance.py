"""VC 2.0 conformance on issue and verify, the data-integrity context for VC 1.1, and proof chains (issue 9,
items 1, 2 and 4), through the real command line, the pipeline and `POST /verify`.

Specifications: VC Data Model 2.0 §4-5 (the rules, node/verification/vc_rules.py), vc-di-eddsa §3 and
Data Integrity §2.1 (the data-integrity context), Data Integrity §2.1.2-2.1.3 (proof sets and chains).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from node.clock import FixedClock
from node.crypto.data_integrity import add_proof
from node.crypto.did import DidResolver
from node.crypto.keys import KeyPair
from node.crypto.signer import DocumentSigner
from node.errors import ValidationFailed
from node.verification.pipeline import CredentialVerifier
from node.verification.vc_rules import DATA_INTEGRITY_V2, VC_V1

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
SUITES = ["eddsa-jcs-2022", "eddsa-rdfc-2022"]


def puente(*args, cwd):
    env = {**os.environ, "PUENTE_DATA_DIR": str(cwd / "no-node")}
    return subprocess.run([sys.executable, "-m", "node", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def credential(issuer, /, **changes) -> dict:
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:3f6a0c1e-8f7b-4c55-9a0e-1d2c3b4a5f60",
                "type": ["VerifiableCredential"], "issuer": issuer, "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"id": "did:example:learner", "name": "Ana"}}
    document.update(changes)
    return document


@pytest.fixture
def signer():
    s = DocumentSigner(workers=1)
    yield s
    s.close()


async def verify(signer, document, **options):
    return await CredentialVerifier(signer, DidResolver(), FixedClock(NOW)).verify(document, **options)


def failures(result) -> dict:
    return {c.check: c.reason for c in result.failures}


# -- issuer side: signing refuses a non-conforming credential ---------------------------------------

# The shapes of the finding that were signed (VC 2.0 section, changes, JSON path of the violation).
REFUSED = [
    ("4.7-issuer-not-url", {"issuer": "fake-issuer"}, "$.issuer"),
    ("4.7-issuer-null", {"issuer": None}, "$.issuer"),
    ("4.3-context-first", {"@context": ["https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/v2"]}, "$.@context[0]"),
    ("4.4-id-not-url", {"id": "https ://not-a-url/1"}, "$.id"),
    ("4.8-subject-empty", {"credentialSubject": {}}, "$.credentialSubject"),
    ("4.9-validFrom", {"validFrom": "Sat 25 Feb 2023 07:16:31 PM CST"}, "$.validFrom"),
    ("4.10-status-without-type", {"credentialStatus": {"id": "https://a.example/status/1#9"}}, "$.credentialStatus.type"),
    ("4.10-status-id-not-url", {"credentialStatus": {"id": "status 9", "type": "BitstringStatusListEntry"}}, "$.credentialStatus.id"),
    ("4.11-schema-without-type", {"credentialSchema": {"id": "https://a.example/schema.json"}}, "$.credentialSchema.type"),
    ("5.3-related-resource-string", {"relatedResource": ["https://a.example/ctx.json"]}, "$.relatedResource[0]"),
    ("5.3-related-resource-without-digest", {"relatedResource": [{"id": "https://a.example/ctx.json"}]}, "$.relatedResource[0]"),
    ("5.4-refresh-service-without-type", {"refreshService": {"id": "https://a.example/refresh"}}, "$.refreshService.type"),
    ("5.5-terms-of-use-without-type", {"termsOfUse": {"id": "https://a.example/tou"}}, "$.termsOfUse.type"),
    ("5.6-evidence-without-type", {"evidence": [{"id": "https://a.example/evidence/1"}]}, "$.evidence[0].type"),
]


@pytest.mark.parametrize("changes,path", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_cli_sign_refuses_a_nonconforming_credential_with_its_path(tmp_path, changes, path):
    key = KeyPair.generate()
    (tmp_path / "key.json").write_text(json.dumps(key.to_json()))
    (tmp_path / "vc.json").write_text(json.dumps(credential(key.controller, **changes)))
    proc = puente("credential", "sign", "--key", "key.json", "vc.json", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("puente: ") and path in lines[0], proc.stderr


def test_cli_signs_the_same_credential_once_it_conforms(tmp_path):
    key = KeyPair.generate()
    (tmp_path / "key.json").write_text(json.dumps(key.to_json()))
    (tmp_path / "vc.json").write_text(json.dumps(credential(key.controller)))
    proc = puente("credential", "sign", "--key", "key.json", "vc.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["proof"]["verificationMethod"] == key.id


@pytest.mark.parametrize("suite", SUITES)
async def test_the_signer_refuses_with_every_violation_by_path(signer, suite):
    """The service path (DocumentSigner: issuance, status lists, publications, the VC API) refuses too,
    listing every violation; batches (sign_many) name the document."""
    key = KeyPair.generate()
    bad = credential("fake-issuer", validFrom="Sat 25 Feb 2023 07:16:31 PM CST", credentialStatus={"id": "x"})
    with pytest.raises(ValidationFailed) as raised:
        await signer.sign(bad, key, suite=suite)
    paths = [e["path"] for e in raised.value.extensions["errors"]]
    assert paths == ["$.issuer", "$.validFrom", "$.credentialStatus.type", "$.credentialStatus.id"]
    assert raised.value.to_problem()["errors"] == raised.value.extensions["errors"]
    with pytest.raises(ValidationFailed, match="document 1"):
        await signer.sign_many([credential(key.controller), bad], key, suite=suite)


# -- verifier side: a non-conforming credential signed by raw key code fails with the typed rule ----

SIGNED_ANYWAY = [
    ("4.10-status-without-type", {"credentialStatus": {"id": "https://a.example/status/1#9"}}, "status_type_required"),
    ("4.11-schema-without-type", {"credentialSchema": {"id": "https://a.example/schema.json"}}, "schema_type_required"),
    ("5.3-related-resource-string", {"relatedResource": ["https://a.example/ctx.json"]}, "related_resource_object"),
    ("5.3-related-resource-without-digest", {"relatedResource": [{"id": "https://a.example/ctx.json"}]}, "related_resource_digest"),
    ("5.4-refresh-service-without-type", {"refreshService": {"id": "https://a.example/refresh"}}, "refresh_service_type_required"),
    ("5.5-terms-of-use-without-type", {"termsOfUse": {"id": "https://a.example/tou"}}, "terms_of_use_type_required"),
    ("5.6-evidence-without-type", {"evidence": [{"id": "https://a.example/evidence/1"}]}, "evidence_type_required"),
]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("changes,rule", [r[1:] for r in SIGNED_ANYWAY], ids=[r[0] for r in SIGNED_ANYWAY])
async def test_a_nonconforming_credential_signed_by_raw_code_fails_verify_with_its_rule(signer, suite, changes, rule):
    """add_proof is raw signing (no rules): its output verifies cryptographically, issuer-bound, and still fails."""
    key = KeyPair.generate()
    signed = add_proof(credential(key.controller, **changes), key, suite=suite, created=NOW)
    result = await verify(signer, signed)
    assert failures(result) == {f"conformance.{rule}": "nonconforming"}
    assert result.signers[0]["verified"] is True  # the proof itself is good: only the rule fails


def test_cli_verify_reports_the_rule(tmp_path):
    key = KeyPair.generate()
    signed = add_proof(credential(key.controller, termsOfUse={"id": "https://a.example/tou"}), key, suite="eddsa-jcs-2022", created=NOW)
    (tmp_path / "vc.json").write_text(json.dumps(signed))
    proc = puente("credential", "verify", "--offline", "vc.json", cwd=tmp_path)
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["verified"] is False
    assert {c["check"]: c["reason"] for c in out["checks"] if not c["ok"]} == {"conformance.terms_of_use_type_required": "nonconforming"}


async def test_post_verify_reports_the_rule(client):
    key = KeyPair.generate()
    signed = add_proof(credential(key.controller, relatedResource=["https://a.example/ctx.json"]), key,
                       suite="eddsa-jcs-2022", created=NOW)
    response = await client.post("/verify", json=signed)
    assert response.status == 200
    verdict = await response.json()
    assert verdict["verified"] is False
    assert "conformance.related_resource_object: nonconforming" in verdict["errors"]


# -- VC 1.1 with only the v1 context: the data-integrity context is added on sign ------------------

def v1_credential(issuer) -> dict:
    return {"@context": [VC_V1], "id": "urn:uuid:0b7d3c8e-6a1f-4b2e-9c3d-5e6f7a8b9c0d", "type": ["VerifiableCredential"],
            "issuer": issuer, "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:learner"}}


@pytest.mark.parametrize("suite", SUITES)
def test_a_vc11_credential_signs_with_the_data_integrity_context_and_verifies(tmp_path, suite):
    """vc-di-eddsa §3: the v1 context does not define `created`/`cryptosuite`; the implementation adds
    https://w3id.org/security/data-integrity/v2 (before: "`created` not defined", no proof)."""
    key = KeyPair.generate()
    (tmp_path / "key.json").write_text(json.dumps(key.to_json()))
    (tmp_path / "vc.json").write_text(json.dumps(v1_credential(key.controller)))
    signed = puente("credential", "sign", "--key", "key.json", "--suite", suite, "vc.json", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    document = json.loads(signed.stdout)
    assert document["@context"] == [VC_V1, DATA_INTEGRITY_V2]
    (tmp_path / "signed.json").write_text(signed.stdout)
    verified = puente("credential", "verify", "--offline", "signed.json", cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["verified"] is True


async def test_a_vc11_credential_without_issuance_date_is_refused(signer):
    key = KeyPair.generate()
    document = v1_credential(key.controller)
    del document["issuanceDate"]
    with pytest.raises(ValidationFailed) as raised:
        await signer.sign(document, key)
    assert [e["rule"] for e in raised.value.extensions["errors"]] == ["issuance_date_required"]


# -- proof sets and chains: other parties' proofs, who signed what, required signers --------------

ISSUER_PROOF = "urn:uuid:6c1b0f4e-issuer-proof"


async def chain(suite, *, witness_previous=True):
    issuer, witness = KeyPair.generate(), KeyPair.generate()
    document = add_proof(credential(issuer.controller), issuer, suite=suite, created=NOW, proof_id=ISSUER_PROOF)
    document = add_proof(document, witness, suite=suite, created=NOW, proof_id="urn:uuid:witness-proof",
                         previous_proof=ISSUER_PROOF if witness_previous else None)
    return document, issuer, witness


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("chained", [True, False], ids=["chain", "set"])
async def test_a_proof_by_another_party_verifies_and_is_reported(signer, suite, chained):
    """Data Integrity §2.1.2-2.1.3: a witness's proof (chained with previousProof, or in a set) is
    allowed when it verifies; the issuer signed one; the result says who signed what."""
    document, issuer, witness = await chain(suite, witness_previous=chained)
    result = await verify(signer, document)
    assert result.verified, result.to_json()
    assert result.signers == [
        {"proof": 0, "id": ISSUER_PROOF, "controller": issuer.controller, "verificationMethod": issuer.id,
         "purpose": "assertionMethod", "previousProof": None, "issuer": True, "verified": True},
        {"proof": 1, "id": "urn:uuid:witness-proof", "controller": witness.controller, "verificationMethod": witness.id,
         "purpose": "assertionMethod", "previousProof": ISSUER_PROOF if chained else None, "issuer": False, "verified": True},
    ]
    assert result.to_json()["signers"] == result.signers


async def test_a_chain_whose_witness_proof_was_altered_fails_and_names_it(signer):
    document, _issuer, _witness = await chain("eddsa-jcs-2022")
    document = copy.deepcopy(document)
    document["proof"][0]["created"] = "2026-01-02T00:00:00Z"  # the witness signed the issuer's proof as it was
    result = await verify(signer, document)
    assert not result.verified
    assert {"proof[0].signature", "proof[1].signature"} <= set(failures(result))
    assert [s["verified"] for s in result.signers] == [False, False]


async def test_a_chain_without_an_issuer_proof_fails_issuer_binding(signer):
    issuer, a, b = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    document = add_proof(credential(issuer.controller), a, suite="eddsa-jcs-2022", created=NOW, proof_id="urn:uuid:a")
    document = add_proof(document, b, suite="eddsa-jcs-2022", created=NOW, previous_proof="urn:uuid:a")
    result = await verify(signer, document)
    assert failures(result) == {"issuer": "issuer_mismatch"}
    assert [s["issuer"] for s in result.signers] == [False, False]


async def test_required_signers_each_need_a_verified_proof(signer):
    """The hook for documents that need a proof by each named party (agreements)."""
    document, issuer, witness = await chain("eddsa-jcs-2022")
    assert (await verify(signer, document, required_signers=[issuer.controller, witness.controller])).verified
    absent = KeyPair.generate().controller
    result = await verify(signer, document, required_signers=[issuer.controller, absent])
    assert failures(result) == {f"signers.{absent}": "missing_signer"}


async def test_post_verify_accepts_a_witnessed_credential_and_lists_signers(client):
    document, issuer, witness = await chain("eddsa-rdfc-2022")
    verdict = await (await client.post("/verify", json=document)).json()
    assert [(s["controller"], s["issuer"], s["verified"]) for s in verdict["signers"]] == [
        (issuer.controller, True, True), (witness.controller, False, True)]
    assert not [c for c in verdict["checks"] if not c["ok"] and not c["check"].startswith(("trust", "accreditation"))], verdict
