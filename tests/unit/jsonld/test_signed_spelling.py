"""Wired into Data Integrity (add_proof / verify_document): whatever the suite, a document is signed and
verified only in the spelling its contexts define, and only if JSON-LD drops nothing from it."""

import copy
import hashlib

import pytest
import rfc8785
from pyld import jsonld

from node.crypto import multibase
from node.crypto.cryptosuites import get_suite
from node.crypto.data_integrity import add_proof, verify_document
from node.crypto.keys import KeyPair
from node.errors import InvalidInput
from node.jsonld.errors import DroppedData, NoncanonicalTerm
from node.jsonld.loader import document_loader

from .test_terms import CRED, credential

SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
KEY = KeyPair.from_seed(bytes(range(32)))
CREATED = "2026-01-01T00:00:00Z"


def lookup(vm):
    return KEY.public_key


def reasons(result):
    return {c.reason for c in result.checks if not c.ok}


def lax_sign(document: dict, suite: str) -> dict:
    """What a signer without these rules produces: stock pyld (resolving relative IRIs against its
    made-up base, dropping what it cannot represent) or plain RFC 8785."""
    def canon(doc):
        if suite == "eddsa-jcs-2022":
            return rfc8785.dumps(doc)
        return jsonld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                      "documentLoader": document_loader}).encode()
    cryptosuite = get_suite(suite)
    proof = {"type": "DataIntegrityProof", "cryptosuite": suite, "created": CREATED, "verificationMethod": KEY.id,
             "proofPurpose": "assertionMethod"}
    if cryptosuite.context_in_proof:
        proof["@context"] = document["@context"]
    config = cryptosuite.proof_config(proof, document)
    data = hashlib.sha256(canon(config)).digest() + hashlib.sha256(canon(document)).digest()
    return {**document, "proof": {**proof, "proofValue": multibase.encode_base58btc(KEY.sign(data))}}


@pytest.mark.parametrize("suite", SUITES)
def test_a_canonical_credential_signs_and_verifies(suite):
    assert verify_document(add_proof(credential(), KEY, suite=suite, created=CREATED), lookup).verified


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("key", ["credentialStatus", "validUntil", "validFrom"])
def test_signing_a_respelled_document_is_refused_with_its_path(suite, key):
    document = credential()
    document[CRED + key] = document.pop(key)
    with pytest.raises(NoncanonicalTerm) as caught:
        add_proof(document, KEY, suite=suite, created=CREATED)
    assert isinstance(caught.value, InvalidInput) and caught.value.extensions["path"] == f"$.{CRED + key}"


@pytest.mark.parametrize("key", ["credentialStatus", "validUntil", "validFrom"])
def test_rdfc_respelling_keeps_the_signature_but_fails_verification(key):
    signed = add_proof(credential(), KEY, suite="eddsa-rdfc-2022", created=CREATED)
    respelled = {k: v for k, v in signed.items() if k != key}
    respelled[CRED + key] = signed[key]
    result = verify_document(respelled, lookup)
    assert not result.verified and reasons(result) == {"noncanonical_term"}


@pytest.mark.parametrize("suite", SUITES)
def test_a_document_whose_id_was_dropped_when_signed_cannot_be_rewritten(suite):
    # The finding: an invalid id drops every statement about the credential from the rdfc graph, so a lax
    # signer's proof does not cover issuer/type/dates; changed afterwards, it still "verified".
    document = credential()
    document["id"] = "https ://not-a-url/x"
    signed = lax_sign(document, suite)
    changed = copy.deepcopy(signed)
    changed["validUntil"] = "2099-01-01T00:00:00Z"
    changed["issuer"]["id"] = "did:web:evil.example"
    for candidate in (signed, changed):
        result = verify_document(candidate, lookup)
        assert not result.verified and "dropped_data" in reasons(result)
    with pytest.raises(DroppedData):
        add_proof(document, KEY, suite=suite, created=CREATED)


@pytest.mark.parametrize("suite", SUITES)
def test_an_undefined_type_signed_elsewhere_does_not_verify(suite):
    document = credential()
    document["type"] = document["type"] + ["InvalidType"]
    result = verify_document(lax_sign(document, suite), lookup)
    assert not result.verified and reasons(result) == {"dropped_data"}


@pytest.mark.parametrize("suite", SUITES)
def test_a_respelled_proof_option_is_refused(suite):
    signed = add_proof(credential(), KEY, suite=suite, created=CREATED)
    signed["proof"][0]["https://w3id.org/security#proofPurpose"] = signed["proof"][0]["proofPurpose"]
    result = verify_document(signed, lookup)
    assert not result.verified and "noncanonical_term" in reasons(result)


@pytest.mark.parametrize("suite", SUITES)
def test_vocab_null_is_refused_when_signing_not_a_traceback(suite):
    document = credential()
    document["@context"] = document["@context"] + [{"@vocab": None}]
    with pytest.raises(InvalidInput, match="@vocab|context"):
        add_proof(document, KEY, suite=suite, created=CREATED)
