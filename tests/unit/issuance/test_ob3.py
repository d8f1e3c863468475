import copy
import json
from importlib import resources

from jsonschema import Draft201909Validator

from node.issuance.model import make_recipient
from node.issuance.ob3 import build_credential
from node.issuance.schema import schema_errors
from node.issuance.status_list import status_entry


BASE = "http://127.0.0.1:8080"
DID_KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
PROOF = [{
    "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-03-01T12:00:00Z",
    "verificationMethod": "did:web:127.0.0.1%3A8080:institutions:intecap#key-1", "proofPurpose": "assertionMethod",
    "proofValue": "z3yy",
}]


def build(template, institution, issued_at, identifier="ana@example.org", **kw):
    entries = [status_entry(f"{BASE}/status/r1", "revocation", 17), status_entry(f"{BASE}/status/s1", "suspension", 99)]
    return build_credential(
        template=template, institution=institution, recipient=make_recipient("Ana", "López", identifier, salt="pepper"),
        credential_id=f"{BASE}/credentials/0b5c", issued_at=issued_at, status_entries=entries, base_url=BASE, **kw,
    )


def test_credential_shape(template, institution, issued_at):
    cred = build(template, institution, issued_at)
    assert cred["@context"][:2] == ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert cred["issuer"]["id"] == institution.did
    assert cred["validFrom"] == "2026-03-01T12:00:00Z" and cred["validUntil"] == "2031-03-01T12:00:00Z"
    assert [s["statusPurpose"] for s in cred["credentialStatus"]] == ["revocation", "suspension"]
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


def test_only_deviation_from_upstream_schema_is_the_status_array(template, institution, issued_at, conformance):
    upstream = Draft201909Validator(conformance("openbadges", "schemas", "achievementcredential.json"),
                                    format_checker=Draft201909Validator.FORMAT_CHECKER)
    cred = dict(build(template, institution, issued_at, puente_terms=True), proof=PROOF)
    for entry in cred["credentialStatus"]:  # each entry alone is what upstream OB 3.0 accepts
        single = dict(copy.deepcopy(cred), credentialStatus=entry)
        assert list(upstream.iter_errors(single)) == []
    bundled = resources.files("node.issuance").joinpath("schemas/ob_v3p0_achievementcredential.upstream.json").read_text()
    assert json.loads(bundled) == conformance("openbadges", "schemas", "achievementcredential.json")


def test_schema_catches_broken_credentials(template, institution, issued_at):
    cred = dict(build(template, institution, issued_at), proof=PROOF)
    assert schema_errors(dict(cred, proof=PROOF[0]))  # proof must be an array
    broken = copy.deepcopy(cred)
    del broken["credentialSubject"]["achievement"]["criteria"]
    assert any("criteria" in e["error"] for e in schema_errors(broken))
    assert schema_errors(dict(cred, validFrom=20260301))
