"""The published example readiness assessment: valid against its schema, signed, and tamper-evident."""

import copy
import json

import pytest

from node.crypto.data_integrity import verify_document
from node.crypto.keys import KeyPair
from node.rpl.catalogue import bundled_catalogue
from node.rpl.readiness import consistency_checks
from node.rpl.schemas import SCHEMA_DIR, schema_errors

EXAMPLE = json.loads((SCHEMA_DIR / "readiness-assessment.example.json").read_text())
# The example's key is a public test key (seed 00..1f), never used outside tests and docs.
KEY = KeyPair.from_seed(bytes(range(32)), controller="did:web:puente.example.gt:ministry", fragment="key-1")


def lookup(vm_id):
    if vm_id != KEY.id:
        raise LookupError(vm_id)
    return KEY.public_key


def test_example_matches_schema_and_rule_and_verifies():
    assert schema_errors("readiness-assessment", EXAMPLE) == []
    assert all(c.ok for c in consistency_checks(EXAMPLE, bundled_catalogue()))
    assert verify_document(EXAMPLE, lookup).verified


@pytest.mark.parametrize("path,value", [
    (("credentialSubject", "result"), "not_ready"),
    (("credentialSubject", "jurisdiction"), "PE"),
    (("issuer",), "did:web:puente.example.pe:ministry"),
    (("validFrom",), "2020-01-01T00:00:00Z"),
])
def test_any_change_breaks_the_signature(path, value):
    tampered = copy.deepcopy(EXAMPLE)
    target = tampered
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not verify_document(tampered, lookup).verified


def test_tampered_answer_breaks_signature_and_rule():
    tampered = copy.deepcopy(EXAMPLE)
    answer = next(a for a in tampered["credentialSubject"]["answers"] if a["checkpoint"] == "access-for-migrants")
    answer["answer"] = "not_met"
    answer.pop("supportingEvidence")
    assert not verify_document(tampered, lookup).verified
    reasons = [c.reason for c in consistency_checks(tampered, bundled_catalogue()) if not c.ok]
    assert reasons == ["result_mismatch"]


def test_unknown_or_different_catalogue_fails_closed():
    assert [c.reason for c in consistency_checks(EXAMPLE, None) if not c.ok] == ["unknown_catalogue"]
    other = copy.deepcopy(EXAMPLE)
    other["credentialSubject"]["checkpointCatalogue"]["digestSha256"] = "0" * 64
    assert [c.reason for c in consistency_checks(other, bundled_catalogue()) if not c.ok] == ["catalogue_mismatch"]
    broken = copy.deepcopy(EXAMPLE)
    del broken["credentialSubject"]["answers"]
    assert [c.reason for c in consistency_checks(broken, bundled_catalogue()) if not c.ok] == ["schema_invalid"]
