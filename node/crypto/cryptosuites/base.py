"""What a cryptosuite is: a name, a canonicalization, and how it shapes the proof configuration."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable

from node.errors import InvalidInput


class UnknownCryptosuite(InvalidInput):
    slug = "unknown-cryptosuite"
    title = "Unknown cryptosuite"


@dataclass(frozen=True)
class Cryptosuite:
    name: str
    canonicalize: Callable[[dict[str, Any]], bytes]
    # eddsa-jcs-2022 keeps the document's @context inside the proof; eddsa-rdfc-2022 only borrows it
    # for canonicalizing the proof configuration.
    context_in_proof: bool

    def proof_config(self, proof: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        """The proof without proofValue, carrying the @context used to canonicalize it."""
        config = {k: v for k, v in proof.items() if k != "proofValue"}
        if not self.context_in_proof and "@context" in document:
            config["@context"] = document["@context"]
        return config

    def hash_data(self, unsecured: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
        """sha256(canonical proof config) || sha256(canonical document): the bytes Ed25519 signs."""
        proof_hash = hashlib.sha256(self.canonicalize(proof_config)).digest()
        doc_hash = hashlib.sha256(self.canonicalize(unsecured)).digest()
        return proof_hash + doc_hash
