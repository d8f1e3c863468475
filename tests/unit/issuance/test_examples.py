"""Each signed document type issuance publishes: schema, example, and sign/verify/tamper."""

import copy
import json
from importlib import resources

import pytest

from node.crypto.data_integrity import add_proof, verify_document
from node.crypto.keys import KeyPair
from node.issuance.schema import schema_errors
from node.issuance.status_list import entry_verdict, read_status, read_value

EXAMPLE_KEY = KeyPair.from_seed(bytes(range(32)), controller="did:web:127.0.0.1%3A8080:institutions:intecap", fragment="key-1")


def example(name):
    return json.loads(resources.files("node.issuance").joinpath("schemas", "examples", name).read_text())


def lookup(vm):
    assert vm == EXAMPLE_KEY.id
    return EXAMPLE_KEY.public_key


@pytest.mark.parametrize("name,schema", [
    ("ob3-credential.example.json", "ob_v3p0_achievementcredential.json"),
    ("bitstring-status-list-credential.example.json", "bitstring-status-list-credential.schema.json"),
])
def test_example_validates_verifies_and_tampering_breaks_it(name, schema):
    doc = example(name)
    assert schema_errors(doc, schema) == []
    assert verify_document(doc, lookup).verified
    tampered = copy.deepcopy(doc)
    tampered["validFrom"] = "2020-01-01T00:00:00Z"
    assert not verify_document(tampered, lookup).verified
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        resigned = add_proof(unsigned, EXAMPLE_KEY, suite=suite)
        assert schema_errors(resigned, schema) == [] and verify_document(resigned, lookup).verified


def test_example_credential_points_into_example_list():
    credential, listing = example("ob3-credential.example.json"), example("bitstring-status-list-credential.example.json")
    entry = credential["credentialStatus"]  # one "message" entry
    assert read_status(listing, entry) is True and read_value(listing, entry) == 0x1
    assert entry_verdict(entry, read_value(listing, entry)) == "revoked"  # the example shows a revoked credential


def test_status_list_schema_rejects_a_bad_list():
    listing = example("bitstring-status-list-credential.example.json")
    broken = copy.deepcopy(listing)
    broken["credentialSubject"]["encodedList"] = "zNotMultibaseU"
    assert schema_errors(broken, "bitstring-status-list-credential.schema.json")
    assert schema_errors({k: v for k, v in listing.items() if k != "proof"}, "bitstring-status-list-credential.schema.json")
