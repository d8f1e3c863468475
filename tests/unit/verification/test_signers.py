"""Who signed what (node.verification.checks.signers_of) and the required-signers hook, from check lists alone."""

from node.verification.checks import required_signer_checks, signers_of
from node.verification.result import Check

ISSUER, WITNESS = "did:key:z6MkIssuer", "did:key:z6MkWitness"


def document(proof):
    return {"issuer": ISSUER, "proof": proof}


def proof(did, **extra):
    return {"type": "DataIntegrityProof", "verificationMethod": f"{did}#k", "proofPurpose": "assertionMethod", **extra}


def test_a_single_object_proof_is_labelled_proof():
    signers = signers_of(document(proof(ISSUER)), [Check("proof.verificationMethod", True), Check("proof.signature", True)])
    assert signers == [{"proof": 0, "id": None, "controller": ISSUER, "verificationMethod": f"{ISSUER}#k",
                        "purpose": "assertionMethod", "previousProof": None, "issuer": True, "verified": True}]


def test_each_proof_of_a_set_is_judged_by_its_own_checks():
    checks = [Check("proof[0].signature", True), Check("proof[1].purpose", False, "wrong_proof_purpose"),
              Check("proof[1].signature", True)]
    signers = signers_of(document([proof(ISSUER), proof(WITNESS, previousProof="urn:p0")]), checks)
    assert [(s["controller"], s["issuer"], s["verified"], s["previousProof"]) for s in signers] == [
        (ISSUER, True, True, None), (WITNESS, False, False, "urn:p0")]


def test_no_signature_check_or_a_failed_proof_stage_is_never_verified():
    assert signers_of(document(proof(ISSUER)), [Check("proof.verificationMethod", True)])[0]["verified"] is False
    stage = [Check("proof[0].signature", True), Check("proof", False, "too_complex")]
    assert signers_of(document([proof(ISSUER)]), stage)[0]["verified"] is False


def test_required_signers_pass_only_with_a_verified_proof():
    signers = [{"controller": ISSUER, "verified": True}, {"controller": WITNESS, "verified": False}]
    checks = {c.check: (c.ok, c.reason) for c in required_signer_checks(signers, [ISSUER, WITNESS])}
    assert checks == {f"signers.{ISSUER}": (True, None), f"signers.{WITNESS}": (False, "missing_signer")}
