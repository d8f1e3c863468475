"""Proofs fail closed: tampering, wrong keys, unknown suites, malformed values, undefined terms."""

import copy
import json

import pytest

from node.crypto.data_integrity import KeyResolutionError, add_proof, verify_document
from node.crypto.keys import KeyPair

SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
CREATED = "2026-01-01T00:00:00Z"


@pytest.fixture
def key():
    return KeyPair.from_seed(bytes(range(32)))


@pytest.fixture
def credential(conformance_dir):
    return json.loads((conformance_dir / "openbadges/examples/basicOpenBadgeCredential.json").read_text())


def lookup_for(*keys):
    table = {k.id: k.public_key for k in keys}

    def lookup(vm):
        if vm not in table:
            raise KeyResolutionError(f"unknown {vm}")
        return table[vm]

    return lookup


def reasons(result):
    return {c.reason for c in result.checks if not c.ok}


@pytest.mark.parametrize("suite", SUITES)
def test_sign_then_verify(key, credential, suite):
    signed = add_proof(credential, key, suite=suite, created=CREATED)
    assert isinstance(signed["proof"], list), "OB 3.0 schema requires a proof array"
    result = verify_document(signed, lookup_for(key))
    assert result.verified
    assert [c.check for c in result.checks if c.check.endswith("signature")] == ["proof[0].signature"]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("path,value", [
    (("name",), "Tampered name"),
    (("credentialSubject", "achievement", "name"), "Other achievement"),
    (("validFrom",), "2099-01-01T00:00:00Z"),
])
def test_tampered_document_fails(key, credential, suite, path, value):
    signed = add_proof(credential, key, suite=suite, created=CREATED)
    tampered = copy.deepcopy(signed)
    target = tampered
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    result = verify_document(tampered, lookup_for(key))
    assert not result.verified
    assert "bad_signature" in reasons(result)


@pytest.mark.parametrize("suite", SUITES)
def test_tampered_proof_options_fail(key, credential, suite):
    signed = add_proof(credential, key, suite=suite, created=CREATED)
    signed["proof"][0]["created"] = "2026-01-02T00:00:00Z"
    assert "bad_signature" in reasons(verify_document(signed, lookup_for(key)))


@pytest.mark.parametrize("suite", SUITES)
def test_wrong_key_fails(key, credential, suite):
    other = KeyPair.from_seed(bytes(32))
    signed = add_proof(credential, key, suite=suite, created=CREATED)
    result = verify_document(signed, lambda vm: other.public_key)
    assert not result.verified and "bad_signature" in reasons(result)


def test_unresolvable_key_fails(key, credential):
    signed = add_proof(credential, key, created=CREATED)
    result = verify_document(signed, lookup_for())
    assert not result.verified and "unresolvable_key" in reasons(result)


def test_resolver_crash_fails_closed(key, credential):
    signed = add_proof(credential, key, created=CREATED)

    def broken(vm):
        raise RuntimeError("boom")

    assert "unresolvable_key" in reasons(verify_document(signed, broken))


def test_unknown_cryptosuite_fails(key, credential):
    signed = add_proof(credential, key, created=CREATED)
    signed["proof"][0]["cryptosuite"] = "eddsa-2099"
    result = verify_document(signed, lookup_for(key))
    assert not result.verified and reasons(result) == {"unknown_cryptosuite"}


def test_unknown_suite_refused_when_signing(key, credential):
    from node.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown cryptosuite"):
        add_proof(credential, key, suite="ed25519-2018")


@pytest.mark.parametrize("value", ["", "abc", "z", "z0OIl", 42, None, "z" + "1" * 10, "u" + "A" * 86])
def test_malformed_proof_value_fails(key, credential, value):
    signed = add_proof(credential, key, created=CREATED)
    signed["proof"][0]["proofValue"] = value
    result = verify_document(signed, lookup_for(key))
    assert not result.verified and "malformed_proof_value" in reasons(result)


@pytest.mark.parametrize("mutation,reason", [
    (lambda d: d.pop("proof"), "missing_proof"),
    (lambda d: d.__setitem__("proof", "not a proof"), "malformed_proof"),
    (lambda d: d["proof"][0].__setitem__("type", "Ed25519Signature2020"), "unsupported_proof_type"),
    (lambda d: d["proof"][0].__setitem__("proofPurpose", "authentication"), "wrong_proof_purpose"),
    (lambda d: d["proof"][0].pop("verificationMethod"), "missing_verification_method"),
])
def test_missing_or_wrong_fields_fail(key, credential, mutation, reason):
    signed = add_proof(credential, key, created=CREATED)
    mutation(signed)
    result = verify_document(signed, lookup_for(key))
    assert not result.verified and reason in reasons(result)


def test_not_an_object_fails():
    for value in (None, [], "text", 3):
        assert not verify_document(value, lookup_for()).verified


def test_undefined_term_is_refused_not_silently_dropped(key, conformance_dir):
    # In the employ vector's credentialSubject, type-scoped contexts define no @vocab: an extra
    # property would be dropped from the RDF and so left unsigned (safe mode forbids that).
    signed = json.loads((conformance_dir / "eddsa/rdfc/employ/signedDataInt.json").read_text())
    vector_key = KeyPair.from_json(json.loads((conformance_dir / "eddsa/rdfc/keyPair.json").read_text()))
    assert verify_document(signed, lambda vm: vector_key.public_key).verified
    signed["credentialSubject"]["favouriteColour"] = "blue"
    result = verify_document(signed, lambda vm: vector_key.public_key)
    assert not result.verified and "undefined_term" in reasons(result)


def test_unknown_context_is_a_typed_failure(key, credential):
    signed = add_proof(credential, key, created=CREATED)
    signed["@context"] = signed["@context"] + ["https://example.org/unknown-context/v1"]
    result = verify_document(signed, lookup_for(key))
    assert not result.verified and "unknown_context" in reasons(result)


@pytest.mark.parametrize("suite", SUITES)
def test_proof_set_each_proof_verified(credential, suite):
    ministry_a, ministry_b = KeyPair.from_seed(b"a" * 32), KeyPair.from_seed(b"b" * 32)
    doc = add_proof(credential, ministry_a, suite=suite, created=CREATED)
    doc = add_proof(doc, ministry_b, suite="eddsa-jcs-2022", created=CREATED)
    assert len(doc["proof"]) == 2
    assert verify_document(doc, lookup_for(ministry_a, ministry_b)).verified
    # each proof signs the document alone: removing one leaves the other valid
    only_b = {**doc, "proof": [doc["proof"][1]]}
    assert verify_document(only_b, lookup_for(ministry_b)).verified
    # a forged second proof fails on its own, and so fails the whole set
    doc["proof"][1]["proofValue"] = doc["proof"][0]["proofValue"]
    result = verify_document(doc, lookup_for(ministry_a, ministry_b))
    assert not result.verified
    assert [c.ok for c in result.checks if c.check.endswith("signature")] == [True, False]


def test_proof_chain_signs_previous_proof(credential):
    first, second = KeyPair.from_seed(b"c" * 32), KeyPair.from_seed(b"d" * 32)
    doc = add_proof(credential, first, created=CREATED, proof_id="urn:uuid:proof-1")
    doc = add_proof(doc, second, created=CREATED, previous_proof="urn:uuid:proof-1")
    assert verify_document(doc, lookup_for(first, second)).verified
    doc["proof"][0]["created"] = "2026-02-01T00:00:00Z"  # changing the earlier proof breaks both
    result = verify_document(doc, lookup_for(first, second))
    assert [c.ok for c in result.checks if c.check.endswith("signature")] == [False, False]


def test_challenge_and_domain_bound(key, credential):
    signed = add_proof(credential, key, purpose="authentication", created=CREATED, challenge="n-1", domain="https://dest.example")
    ok = verify_document(signed, lookup_for(key), purpose="authentication", challenge="n-1", domain="https://dest.example")
    assert ok.verified
    replay = verify_document(signed, lookup_for(key), purpose="authentication", challenge="n-2", domain="https://dest.example")
    assert "challenge_mismatch" in reasons(replay)
    elsewhere = verify_document(signed, lookup_for(key), purpose="authentication", challenge="n-1", domain="https://other.example")
    assert "domain_mismatch" in reasons(elsewhere)


def test_first_proof_is_an_object_for_plain_credentials(key, conformance_dir):
    unsigned = json.loads((conformance_dir / "eddsa/rdfc/unsigned.json").read_text())
    assert isinstance(add_proof(unsigned, key, created=CREATED)["proof"], dict)
