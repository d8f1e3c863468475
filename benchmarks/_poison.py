"""Inputs built to make a verifier work forever (issue 8, item 2). Shared by the limit tests and the
time-to-refusal benchmark, so both measure the same documents.

Every credential uses only terms the VC 2.0 context defines (its @vocab catches the rest) and conforms
to the VC 2.0 rules at its top level, so what stops it is the work bound, not an undefined-term or
conformance check.
"""

from __future__ import annotations

import json
from typing import Any

from node.crypto.multibase import encode_base58btc

VC2 = "https://www.w3.org/ns/credentials/v2"


def _credential(subject: Any, suite_hint: str = "") -> dict[str, Any]:
    return {
        "@context": [VC2],
        "id": "urn:uuid:7d0f3a52-3f1e-4d0e-9a51-5c8f1e2b9a00",
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subject,
    }


def clique(n: int) -> dict[str, Any]:
    """A subject holding n blank nodes, each pointing at all the others (~4 KB for n = 8). The subject
    itself is a plain object (a credentialSubject id must be a URL: VC 2.0 §4.4), so the credential
    conforms and only the work bound stops it."""
    return _credential({"type": "VerifiableCredential",
                        "credentialSubject": [{"id": f"_:n{i}", "type": "VerifiableCredential",
                                               "credentialSubject": [{"id": f"_:n{j}"} for j in range(n) if j != i]}
                                              for i in range(n)]})


def deep_nesting(depth: int) -> dict[str, Any]:
    """A subject nested `depth` objects deep (a chain of look-alike blank nodes)."""
    node: dict[str, Any] = {"name": "leaf"}
    for _ in range(depth):
        node = {"type": "VerifiableCredential", "credentialSubject": node}
    return _credential(node)


def blank_node_array(size_bytes: int) -> dict[str, Any]:
    """A subject with one property holding about `size_bytes` of empty objects: one blank node each."""
    return _credential({"type": "VerifiableCredential", "credentialSubject": [{}] * (size_bytes // 3)})


def deep_json(depth: int) -> bytes:
    """Plain JSON nested `depth` arrays deep (not even a credential)."""
    return b"[" * depth + b"]" * depth


def with_fake_proof(document: dict[str, Any], suite: str = "eddsa-rdfc-2022") -> dict[str, Any]:
    """A syntactically complete proof (the signature is garbage): the verifier must canonicalize before it
    can tell, so this is what an attacker posts to a public /verify."""
    proof = {"type": "DataIntegrityProof", "cryptosuite": suite, "created": "2026-01-01T00:00:00Z",
             "verificationMethod": document["issuer"] + "#" + document["issuer"].split(":")[-1],
             "proofPurpose": "assertionMethod", "proofValue": encode_base58btc(bytes(range(64)))}
    return {**document, "proof": proof}


def body(document: Any) -> bytes:
    return json.dumps(document).encode()
