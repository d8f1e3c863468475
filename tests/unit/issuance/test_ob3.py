import copy
import json
from importlib import resources

from jsonschema import Draft201909Validator

from node.issuance.model import make_recipient
from node.issuance.ob3 import build_credential
from node.issuance.schema import schema_errors
from node.issuance.status_list import message_entry


BASE = "http://127.0.0.1:8080"
DID_KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
PROOF = [{
    "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-03-01T12:00:00Z",
    "verificationMethod": "did:web:127.0.0.1%3A8080:institutions:intecap#key-1", "proofPurpose": "assertionMethod",
    "proofValue": "z3yy",
}]


def build(template, institution, issued_at, identifier="ana@example.org", **kw):
    return build_credential(
        template=template, institution=institution, recipient=make_recipient("Ana", "López", identifier, salt="pepper"),
        credential_id=f"{BASE}/credentials/0b5c", issued_at=issued_at,
        credential_status=message_entry(f"{BASE}/status/m1", 17), base_url=BASE, **kw,
    )


def test_credential_shape(template, institution, issued_at):
    cred = build(template, institution, issued_at)
    assert cred["@context"][:2] == ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert cred["issuer"]["id"] == institution.did
    assert cred["validFrom"] == "2026-03-01T12:00:00Z" and cred["validUntil"] == "2031-03-01T12:00:00Z"
    status = cred["credentialStatus"]  # one object: the OB 3.0 schema allows no array
    assert isinstance(status, dict) and status["statusPurpose"] == "message" and status["statusSize"] == 2
    assert status["statusMessage"] == [{"status": "0x0", "message": "valid"}, {"status": "0x1", "message": "revoked"},
                                       {"status": "0x2", "message": "suspended"}, {"status": "0x3", "message": "revoked"}]
    assert status["id"] == f"{BASE}/status/m1#17" and status["statusListIndex"] == "17"
    achievement = cred["credentialSubject"]["achievement"]
    kinds = {a["targetType"]: a for a in achievement["alignment"]}
    assert kinds["ext:RQFLevel"]["targetCode"] == "2"
    assert kinds["ceterms:Credential"]["targetCode"] == "GT-CON-ALB-2"
    assert kinds["ext:NationalLevel"]["targetFramework"] == "gt-mnc"
    assert kinds["ceasn:Competency"]["targetUrl"].startswith("http://data.europa.eu/esco/skill/")
    assert "notionalWorkloadHours" not in achievement  # only with the Puente context


def test_no_plain_email_anywhere(template, institution, issued_at):
    cred = build(template, institution, issued_at)
    text = json.dumps(cred)
    assert "ana@example.org" not in text
    hashed = [i for i in cred["credentialSubject"]["identifier"] if i["identityType"] == "emailAddress"][0]
    assert hashed["hashed"] is True and hashed["identityHash"].startswith("sha256$") and hashed["salt"] == "pepper"
    assert "id" not in cred["credentialSubject"]


def test_did_key_becomes_subject_id(template, institution, issued_at):
    cred = build(template, institution, issued_at, identifier=DID_KEY)
    assert cred["credentialSubject"]["id"] == DID_KEY
    assert all(i["identityType"] != "emailAddress" for i in cred["credentialSubject"]["identifier"])


def test_signed_credential_validates_against_bundled_schema(template, institution, issued_at, template_factory):
    for kwargs in ({}, {"puente_terms": True}, {"identifier": DID_KEY}):
        cred = dict(build(template, institution, issued_at, **kwargs), proof=PROOF)
        assert schema_errors(cred) == []
    no_expiry = dict(build(template_factory(validity=None, esco_skills=[]), institution, issued_at), proof=PROOF)
    assert "validUntil" not in no_expiry and schema_errors(no_expiry) == []


def test_bundled_schema_is_the_unmodified_1edtech_schema(template, institution, issued_at, conformance, conformance_dir):
    """Byte for byte the conformance copy of 1EdTech's schema, and our credentials validate against it."""
    bundled = resources.files("node.issuance").joinpath("schemas/ob_v3p0_achievementcredential.json").read_bytes()
    assert bundled == (conformance_dir / "openbadges" / "schemas" / "achievementcredential.json").read_bytes()
    upstream = Draft201909Validator(conformance("openbadges", "schemas", "achievementcredential.json"),
                                    format_checker=Draft201909Validator.FORMAT_CHECKER)
    cred = dict(build(template, institution, issued_at, puente_terms=True), proof=PROOF)
    assert list(upstream.iter_errors(cred)) == []
    assert list(upstream.iter_errors(dict(cred, credentialStatus=[cred["credentialStatus"]])))  # an array is refused


def test_schema_catches_broken_credentials(template, institution, issued_at):
    cred = dict(build(template, institution, issued_at), proof=PROOF)
    assert schema_errors(dict(cred, proof=PROOF[0]))  # proof must be an array
    broken = copy.deepcopy(cred)
    del broken["credentialSubject"]["achievement"]["criteria"]
    assert any("criteria" in e["error"] for e in schema_errors(broken))
    assert schema_errors(dict(cred, validFrom=20260301))
