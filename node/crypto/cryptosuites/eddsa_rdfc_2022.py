"""eddsa-rdfc-2022: Ed25519 over RDFC-1.0 canonical N-Quads."""

from node.crypto.canonicalize import rdfc
from node.crypto.cryptosuites.base import Cryptosuite

EDDSA_RDFC_2022 = Cryptosuite(
    name="eddsa-rdfc-2022",
    canonicalize=lambda document: rdfc(document).encode("utf-8"),
    context_in_proof=False,
)
