"""Issuer binding and one pipeline for CLI and API (issue 8, item 3).

A credential verifies only when its issuer is a DID that lists the proof's key under assertionMethod;
a status list (this node's own ones too) must be the credential issuer's, signed by that issuer; the
CLI in a node's data directory and `POST /verify` give the same verdicts.
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
from node.verification.pipeline import CredentialVerifier

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
ROW = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}
INTECAP_TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "validity": "P5Y",
}
USAC_TEMPLATE = {
    "id": "usac-cocina-3", "institution": "usac", "name": "Cocinero (nivel 3)", "description": "Cocina profesional.",
    "qualification_code": "GT-HOS-COC-3", "framework_id": "gt-mnc", "national_level": "3", "rqf_level": 3,
    "sector": "hospitality", "isco_code": "5120", "validity": "P5Y",
}


def failures(result: dict) -> dict:
    return {c["check"]: c["reason"] for c in result["checks"] if not c["ok"]}


def verdicts(result: dict) -> list:
    return [(c["check"], c["ok"], c["reason"]) for c in result["checks"]]


def unsigned(document: dict) -> dict:
    return {k: v for k, v in copy.deepcopy(document).items() if k != "proof"}


# -- binding through the pipeline (no node) ---------------------------------------------------------

@pytest.fixture
def signer():
    s = DocumentSigner(workers=1)
    yield s
    s.close()


def plain(issuer) -> dict:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": issuer,
            "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:learner"}}


async def check(signer, document, documents=None, purpose="assertionMethod"):
    verifier = CredentialVerifier(signer, DidResolver(documents=documents), FixedClock(NOW))
    result = await verifier.verify(document, purpose=purpose)
    return {c.check: c.reason for c in result.failures}


@pytest.mark.parametrize("issuer", ["https://university.example/issuers/14", "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
                                    {"id": "did:web:intecap.example", "name": "INTECAP"}])
async def test_any_did_key_signing_as_another_issuer_is_refused(signer, issuer):
    forger = KeyPair.generate()
    forged = add_proof(plain(issuer), forger, suite="eddsa-jcs-2022", created=NOW)
    assert await check(signer, forged) == {"issuer": "issuer_mismatch"}


async def test_the_key_must_be_an_assertion_method_of_the_issuer(signer):
    issuer = "did:web:issuer.example"
    key = KeyPair.generate(controller=issuer, fragment="login")
    document = {"id": issuer, "verificationMethod": [key.verification_method()], "authentication": [key.id]}
    signed = add_proof(plain(issuer), key, suite="eddsa-jcs-2022", purpose="authentication", created=NOW)
    # The proof verifies for its own purpose, but a login key does not make credentials.
    assert await check(signer, signed, {issuer: document}, purpose="authentication") == {"issuer": "issuer_mismatch"}
    document["assertionMethod"] = [key.id]
    asserted = add_proof(plain(issuer), key, suite="eddsa-jcs-2022", created=NOW)
    assert await check(signer, asserted, {issuer: document}) == {}


async def test_proof_sets_need_the_issuer_and_every_proof_valid(signer):
    issuer, cosigner = KeyPair.generate(), KeyPair.generate()
    both = add_proof(add_proof(plain(issuer.controller), issuer, suite="eddsa-jcs-2022", created=NOW), cosigner,
                     suite="eddsa-jcs-2022", created=NOW)
    assert await check(signer, both) == {}
    only_cosigner = add_proof(plain(issuer.controller), cosigner, suite="eddsa-jcs-2022", created=NOW)
    assert await check(signer, only_cosigner) == {"issuer": "issuer_mismatch"}
    broken = copy.deepcopy(both)
    broken["proof"][1]["proofValue"] = broken["proof"][0]["proofValue"]  # the co-signature no longer matches
    assert await check(signer, broken) == {"proof[1].signature": "bad_signature"}


# -- on a node: own lists, CLI = API ---------------------------------------------------------------

@pytest.fixture
async def issuance(services):
    from node.issuance.service import IssuanceService

    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
    await service.create_template(INTECAP_TEMPLATE)
    return service


@pytest.fixture
async def usac(issuance):
    await issuance.create_institution("usac", "USAC", scope={"sectors": ["hospitality"], "rqf_levels": [1, 2, 3]})
    await issuance.create_template(USAC_TEMPLATE)
    return issuance


async def pointing_at_intecaps_list(services, usac) -> tuple[dict, dict]:
    """A USAC credential, signed by USAC, whose status entry points into INTECAP's list on this node."""
    intecap = (await usac.issue_one("intecap-albanileria-2", ROW)).to_json()
    own = (await usac.issue_one("usac-cocina-3", {**ROW, "identifier": "ana2@example.org"})).to_json()
    forged = unsigned(own)
    forged["credentialStatus"] = copy.deepcopy(intecap["credentialStatus"])
    key = await services.keystore.signing_key((await usac.institution("usac")).did)
    return intecap, add_proof(forged, key, suite="eddsa-jcs-2022", created=NOW)


async def test_a_credential_cannot_use_another_institutions_list(client, services, usac):
    intecap, forged = await pointing_at_intecaps_list(services, usac)
    assert (await (await client.post("/verify", json=intecap)).json())["verified"] is True
    verdict = await (await client.post("/verify", json=forged)).json()
    assert verdict["verified"] is False and failures(verdict) == {"status": "status_issuer_mismatch"}


async def test_forged_issuer_on_this_node_is_refused_by_the_api(client, services, issuance):
    genuine = (await issuance.issue_one("intecap-albanileria-2", ROW)).to_json()
    forger = KeyPair.generate()
    forged = add_proof(unsigned(genuine), forger, suite="eddsa-jcs-2022", created=NOW)  # claims INTECAP, any did:key
    verdict = await (await client.post("/verify", json=forged)).json()
    assert verdict["verified"] is False and failures(verdict)["issuer"] == "issuer_mismatch"
    assert failures(verdict)["status"] == "not_checked"  # nothing read or fetched for a document not bound to its issuer
    assert verdict["trust"] == "consulted"


@pytest.fixture
def cli(settings, services, tmp_path):
    work = tmp_path / "work"
    work.mkdir()

    def run(document: dict, *args: str) -> tuple[int, dict]:
        path = work / "credential.json"
        path.write_text(json.dumps(document))
        env = {**os.environ, "PUENTE_DATA_DIR": str(settings.data_dir)}
        proc = subprocess.run([sys.executable, "-m", "node", "credential", "verify", *args, str(path)], capture_output=True,
                              text=True, cwd=work, env=env, timeout=120)
        assert proc.stdout, proc.stderr
        return proc.returncode, json.loads(proc.stdout)

    return run


async def test_cli_and_api_give_the_same_verdicts(client, services, usac, cli):
    intecap, forged = await pointing_at_intecaps_list(services, usac)
    stranger = KeyPair.generate()
    impostor = add_proof(unsigned(intecap), stranger, suite="eddsa-jcs-2022", created=NOW)
    tampered = copy.deepcopy(intecap)
    tampered["credentialSubject"]["achievement"]["name"] = "Ingeniero civil"
    cases = {"valid": intecap, "foreign list": forged, "impostor": impostor, "tampered": tampered}
    for name, document in cases.items():
        api = await (await client.post("/verify", json=document)).json()
        code, local = cli(document)
        assert verdicts(local) == verdicts(api), name
        assert (code == 0) is api["verified"] is local["verified"], name
        assert local["trust"] == api["trust"] == "consulted"
    await usac.change_status(intecap["id"], "revoke", "annulled")
    api = await (await client.post("/verify", json=intecap)).json()
    code, local = cli(intecap)
    assert failures(api) == failures(local) == {"status": "revoked"} and code == 1
