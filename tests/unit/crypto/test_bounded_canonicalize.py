"""Bounded canonicalization (issue 8, item 2): inputs built to make RDFC-1.0 run for minutes are refused
with a typed `too_complex`, while every ordinary document canonicalizes exactly as stock pyld does.

No timing assertions: each poison input would take from a minute to forever without the bound, so a test
that completes at all (pytest-timeout is the hang guard) and names the reason proves the bound.
"""

import json
import signal

import pytest
from pyld import jsonld

from benchmarks._poison import blank_node_array, clique, deep_json, deep_nesting, with_fake_proof
from node.crypto.bounded_canon import TooComplex, WorkLimits, canonize, check_structure
from node.crypto.canonicalize import jcs, rdfc
from node.crypto.data_integrity import add_proof, verify_document
from node.crypto.keys import KeyPair
from node.errors import InvalidInput
from node.jsonld.loader import document_loader
from node.jsonld.processor import CachingJsonLdProcessor



@pytest.fixture(autouse=True)
def hang_guard():
    """A bound that does not hold would hang the run: fail after a generous minute instead."""
    def expire(*_):
        raise TimeoutError("canonicalization did not finish within the hang guard")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def twins(depth: int = 1) -> dict:
    """Look-alike siblings: two identical subtrees, `depth` levels each (ordinary data, no cycles)."""
    subtree = {"name": "leaf"}
    for level in range(depth - 1):
        subtree = {"type": "VerifiableCredential", "name": f"level {level}", "credentialSubject": subtree}
    return {**clique(1), "credentialSubject": {"type": "VerifiableCredential", "credentialSubject": [subtree, dict(subtree)]}}

POISON = {
    "clique-8": lambda: clique(8),
    "clique-9": lambda: clique(9),
    "nesting-400": lambda: deep_nesting(400),
    "clique-5": lambda: clique(5),  # small, but 5 look-alikes need more than 5**2 deep iterations
    "blank-node-array-6MB": lambda: blank_node_array(6_000_000),
    "json-1000-deep": lambda: {**clique(1), "credentialSubject": json.loads(deep_json(900))},
}


def stock_normalize(document) -> str:
    return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                       "documentLoader": document_loader})


@pytest.mark.parametrize("name", POISON)
def test_poison_is_refused_as_too_complex(name):
    with pytest.raises(TooComplex) as refused:
        rdfc(POISON[name]())
    assert isinstance(refused.value, InvalidInput) and refused.value.slug == "too-complex"


@pytest.mark.parametrize("name", ["clique-8", "nesting-400", "blank-node-array-6MB"])
def test_signing_poison_is_a_typed_invalid_input(name):
    with pytest.raises(TooComplex):
        add_proof(POISON[name](), KeyPair.from_seed(bytes(32)))


@pytest.mark.parametrize("name", POISON)
def test_verifying_poison_fails_the_signature_check_with_reason_too_complex(name):
    key = KeyPair.from_seed(bytes(32))
    document = with_fake_proof({**POISON[name](), "issuer": key.controller})
    document["proof"]["verificationMethod"] = key.id
    result = verify_document(document, lambda vm: key.public_key)
    assert not result.verified
    assert [(c.check, c.reason) for c in result.failures] == [("proof.signature", "too_complex")]


def test_jcs_refuses_absurd_nesting_without_a_recursion_error():
    nested: list = []
    for _ in range(5000):  # deeper than any JSON reader lets through; built in Python
        nested = [nested]
    with pytest.raises(TooComplex):
        jcs({"a": nested})
    with pytest.raises(TooComplex):
        add_proof({**deep_nesting(1), "evidence": nested}, KeyPair.from_seed(bytes(32)), suite="eddsa-jcs-2022")


def test_look_alike_siblings_still_canonicalize_like_stock_pyld():
    # Identical subtrees cost about one deep iteration per node: work factor 1 allows them, as rdf-canonize does.
    for document in (twins(1), twins(3), deep_nesting(1)):
        assert rdfc(document) == stock_normalize(document)


def test_ordinary_credential_with_look_alike_siblings_matches_stock_pyld(conformance_dir):
    # The full OB 3.0 example has groups of six look-alike related nodes (6! orderings each).
    document = json.loads((conformance_dir / "openbadges/examples/fullOpenBadgeCredential.json").read_text())
    assert rdfc(document) == stock_normalize(document)


def test_rdf_lists_canonicalize_like_stock_pyld():
    # An @list of n items is a chain of look-alike cells costing about n**2 deep iterations: work factor 2.
    # (rdf-canonize's default factor 1 refuses this readiness assessment; factor 2 reads it.)
    from node.rpl.schemas import SCHEMA_DIR

    document = json.loads((SCHEMA_DIR / "readiness-assessment.example.json").read_text())
    document.pop("proof")
    assert len(document["credentialSubject"]["answers"]) >= 10
    assert rdfc(document) == stock_normalize(document)


def _canonize(document, **limits):
    return canonize(CachingJsonLdProcessor(), document, {"algorithm": "URDNA2015", "documentLoader": document_loader},
                    WorkLimits(**limits))


@pytest.mark.parametrize("limits, message", [
    ({"max_quads": 5}, "RDF statements"),
    ({"max_blank_nodes": 1}, "blank nodes"),
    ({"max_depth": 2}, "nested"),
    ({"max_nodes": 3}, "objects and arrays"),
    ({"time_budget": -1.0}, "longer than"),  # a spent budget: refused at the first checkpoint
    ({"work_factor": 0}, "too alike"),
])
def test_each_limit_is_enforced(limits, message):
    document = twins(2)
    assert _canonize(document) == stock_normalize(document)
    with pytest.raises(TooComplex, match=message):
        _canonize(document, **limits)


def test_structure_check_is_iterative_and_counts_before_walking():
    check_structure(json.loads(deep_json(60)))
    with pytest.raises(TooComplex, match="nested"):
        check_structure(json.loads(deep_json(900)))
    with pytest.raises(TooComplex, match="objects and arrays"):
        check_structure([[]] * 1_000_000)
