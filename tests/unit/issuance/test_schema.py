import copy

import pytest

from node.issuance.model import make_recipient
from node.issuance.ob3 import build_credential
from node.issuance.schema import DRAFT7_SAFE_KEYWORDS, first_error, is_valid_fast, load_schema, schema_errors
from node.issuance.status_list import message_entry

PROOF = [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": "2026-01-01T00:00:00Z",
          "verificationMethod": "did:web:x#key-1", "proofPurpose": "assertionMethod", "proofValue": "z1"}]


def keywords(schema):
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                found.add(key)
                if key in ("properties", "$defs"):
                    for sub in value.values():
                        walk(sub)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return found


def test_schema_uses_only_keywords_that_mean_the_same_in_draft_7():
    assert keywords(load_schema()) <= DRAFT7_SAFE_KEYWORDS


@pytest.fixture
def credential(template, institution, issued_at, base_url):
    doc = build_credential(template=template, institution=institution, recipient=make_recipient("A", "B", "a@b.org", "s"),
                           credential_id=f"{base_url}/credentials/x", issued_at=issued_at, base_url=base_url, puente_terms=True,
                           credential_status=message_entry(f"{base_url}/status/a", 1))
    return dict(doc, proof=PROOF)


def mutations(doc):
    def broken(fn):
        copy_ = copy.deepcopy(doc)
        fn(copy_)
        return copy_

    yield broken(lambda d: d.pop("proof") and d.update(proof=PROOF[0]))
    yield broken(lambda d: d["credentialSubject"]["achievement"].pop("criteria"))
    yield broken(lambda d: d["@context"].__setitem__(1, "https://example.org/ctx"))
    yield broken(lambda d: d["credentialSubject"]["identifier"][0].__setitem__("identityType", "mail"))
    yield broken(lambda d: d["credentialSubject"]["achievement"]["alignment"][0].pop("targetUrl"))
    yield broken(lambda d: d.__setitem__("type", ["VerifiableCredential"]))
    yield broken(lambda d: d.__setitem__("credentialStatus", []))
    yield broken(lambda d: d.__setitem__("credentialStatus", [d["credentialStatus"]]))  # one object, never an array
    yield broken(lambda d: d["credentialStatus"].pop("type"))
    yield broken(lambda d: d.pop("issuer"))


def test_fast_and_authoritative_validators_agree(credential, conformance):
    for example in ("basicOpenBadgeCredential.json", "fullOpenBadgeCredential.json"):
        doc = conformance("openbadges", "examples", example)
        assert is_valid_fast(doc) and schema_errors(doc) == []
    assert is_valid_fast(credential) and first_error(credential) is None
    for bad in mutations(credential):
        assert schema_errors(bad) and not is_valid_fast(bad)
        assert first_error(bad)["error"]


def test_the_bundled_schema_is_byte_identical_to_1edtechs(conformance_dir):
    from importlib import resources

    bundled = resources.files("node.issuance").joinpath("schemas", "ob_v3p0_achievementcredential.json").read_bytes()
    assert bundled == (conformance_dir / "openbadges" / "schemas" / "achievementcredential.json").read_bytes()
    assert load_schema()["properties"]["credentialStatus"] == {"$ref": "#/$defs/CredentialStatus"}


def test_the_fast_verdict_keeps_the_status_array_allowance(credential):
    """POST /verify asks the compiled validator first: a revocation + suspension array is valid when each entry
    is; a broken entry is invalid for both validators, and jsonschema names it."""
    from node.issuance.schema import ob3_schema_errors, ob3_valid_fast

    entry = credential["credentialStatus"]
    both = dict(credential, credentialStatus=[entry, dict(entry, statusPurpose="suspension")])
    assert ob3_valid_fast(both) and ob3_schema_errors(both) == []
    broken = dict(credential, credentialStatus=[entry, {k: v for k, v in entry.items() if k != "type"}])
    assert not ob3_valid_fast(broken)
    assert [e["path"] for e in ob3_schema_errors(broken)] == ["/credentialStatus/1"]
    for document in (credential, *mutations(credential)):  # the two verdicts agree on every mutation
        assert ob3_valid_fast(document) == (ob3_schema_errors(document) == [])
