"""eddsa-jcs-2022: Ed25519 over RFC 8785 canonical JSON (no JSON-LD processing when signing)."""

from node.crypto.canonicalize import jcs
from node.crypto.cryptosuites.base import Cryptosuite

EDDSA_JCS_2022 = Cryptosuite(name="eddsa-jcs-2022", canonicalize=jcs, context_in_proof=True)
