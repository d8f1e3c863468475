import pytest

from node.crypto.data_integrity import KeyResolutionError
from node.crypto.did import DidResolver, did_key_document, did_web_from_url, did_web_to_url, find_verification_method
from node.crypto.keys import KeyPair


def test_did_key_document_lists_its_key():
    key = KeyPair.generate()
    doc = did_key_document(key.controller)
    assert find_verification_method(doc, key.id, "assertionMethod").public_multibase == key.public_multibase


@pytest.mark.parametrize("base,path,did", [
    ("http://127.0.0.1:8080", (), "did:web:127.0.0.1%3A8080"),
    ("https://puente.mintrab.gob.gt", ("ministry",), "did:web:puente.mintrab.gob.gt:ministry"),
    ("https://node.example/gt/", ("institutions:intecap",), "did:web:node.example:gt:institutions:intecap"),
])
def test_did_web_from_url(base, path, did):
    assert did_web_from_url(base, *path) == did


@pytest.mark.parametrize("did,url", [
    ("did:web:127.0.0.1%3A8080", "http://127.0.0.1:8080/.well-known/did.json"),
    ("did:web:node.example:institutions:intecap", "https://node.example/institutions/intecap/did.json"),
])
def test_did_web_to_url(did, url):
    assert did_web_to_url(did) == url


def web_document(did, *keys, purpose="assertionMethod"):
    return {
        "id": did,
        "verificationMethod": [k.verification_method() for k in keys],
        purpose: [k.id for k in keys],
    }


def test_verification_method_must_be_authorised_for_purpose():
    key = KeyPair.generate(controller="did:web:x", fragment="k1")
    doc = web_document("did:web:x", key, purpose="authentication")
    with pytest.raises(KeyResolutionError) as err:
        find_verification_method(doc, key.id, "assertionMethod")
    assert err.value.reason == "key_not_authorized"


def test_foreign_controller_refused():
    key = KeyPair.generate(controller="did:web:attacker", fragment="k1")
    doc = {"id": "did:web:x", "verificationMethod": [{**key.verification_method(), "id": "did:web:x#k1"}], "assertionMethod": ["did:web:x#k1"]}
    with pytest.raises(KeyResolutionError) as err:
        find_verification_method(doc, "did:web:x#k1", "assertionMethod")
    assert err.value.reason == "controller_mismatch"


async def test_resolver_order_and_failures():
    key = KeyPair.generate(controller="did:web:peer.example", fragment="k1")
    resolver = DidResolver(documents={"did:web:peer.example": web_document("did:web:peer.example", key)})
    keys = await resolver.public_keys([key.id, "did:web:unknown.example#k", "did:example:123#k"], "assertionMethod")
    assert keys[key.id].public_multibase == key.public_multibase
    assert keys["did:web:unknown.example#k"].reason == "unresolvable_did"
    assert keys["did:example:123#k"].reason == "unsupported_did_method"
