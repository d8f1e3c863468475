"""Bitstring Status List (W3C): the bitstring, its encoding, index allocation and the list credential.

Pure. Indexes are allocated by a keyed pseudo-random permutation of [0, size): slot n of a list maps
to `permute(key, n)`. A counter per list then gives indexes that look random to an observer (so a
list does not leak issuance order or volume) and can never collide, without a retry loop.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
from datetime import datetime
from typing import Any

from node.clock import isoformat_z
from node.errors import InvalidInput

LIST_SIZE = 131_072  # 2**17 bits = 16 KiB: the spec's minimum, for herd privacy
PURPOSES = ("revocation", "suspension")
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


class Bitstring:
    """Bit 0 is the most significant bit of byte 0, as the Bitstring Status List spec orders them."""

    def __init__(self, size: int = LIST_SIZE, data: bytes | None = None) -> None:
        if size % 8:
            raise ValueError("a status list size must be a multiple of 8")
        self.size = size
        self._bytes = bytearray(data if data is not None else size // 8)
        if len(self._bytes) * 8 != size:
            raise ValueError("bitstring data does not match its size")

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise InvalidInput(f"status index {index} is outside the list (0..{self.size - 1})")
        return index // 8, 7 - index % 8

    def get(self, index: int) -> bool:
        byte, bit = self._locate(index)
        return bool(self._bytes[byte] >> bit & 1)

    def set(self, index: int, value: bool) -> None:
        byte, bit = self._locate(index)
        if value:
            self._bytes[byte] |= 1 << bit
        else:
            self._bytes[byte] &= ~(1 << bit) & 0xFF

    def count(self) -> int:
        return sum(bin(b).count("1") for b in self._bytes)

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        """GZIP, then base64url without padding, with the multibase prefix 'u'."""
        compressed = gzip.compress(self.to_bytes(), mtime=0)  # mtime=0: same bits, same encoding
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: Any) -> "Bitstring":
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise InvalidInput("encodedList must be a multibase base64url string starting with 'u'")
        body = encoded[1:]
        try:
            raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, OSError, EOFError) as exc:
            raise InvalidInput(f"encodedList is not GZIP-compressed base64url: {exc}") from None
        if not raw:
            raise InvalidInput("encodedList is empty")
        return cls(len(raw) * 8, raw)


# ---------------------------------------------------------------------------------------------
# Collision-free random-looking allocation


def permute(key: bytes, slot: int, size: int = LIST_SIZE) -> int:
    """A keyed bijection on [0, size) (size a power of two): a 4-round Feistel network with
    cycle-walking, so slot n -> a unique pseudo-random index."""
    bits = size.bit_length() - 1
    if 1 << bits != size or not 0 <= slot < size:
        raise ValueError("slot must be in [0, size) and size a power of two")
    half = (bits + 1) // 2
    mask = (1 << half) - 1
    value = slot
    while True:  # cycle-walk: a Feistel permutation on 2*half bits, re-applied until inside [0, size)
        left, right = value >> half, value & mask
        for round_ in range(4):
            digest = hmac.new(key, bytes([round_]) + right.to_bytes(4, "big"), hashlib.sha256).digest()
            left, right = right, left ^ (int.from_bytes(digest[:4], "big") & mask)
        value = left << half | right
        if value < size:
            return value


# ---------------------------------------------------------------------------------------------
# Documents


def status_entry(list_url: str, purpose: str, index: int) -> dict[str, Any]:
    """The `credentialStatus` entry a credential carries for one list."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def list_credential(list_url: str, issuer: str, purpose: str, bits: Bitstring, valid_from: datetime) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential for one list."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"status purpose must be one of {PURPOSES}")
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": isoformat_z(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }


def read_status(list_document: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether the entry's bit is set in the given list credential. Mismatches are errors, not 'unset'."""
    subject = list_document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, dict):
        raise InvalidInput("status list credential has no credentialSubject")
    if list_document.get("id") != entry.get("statusListCredential"):
        raise InvalidInput("status list credential id does not match the entry's statusListCredential")
    purposes = subject.get("statusPurpose")
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if entry.get("statusPurpose") not in purposes:
        raise InvalidInput(f"status list purpose {purposes} does not match the entry's {entry.get('statusPurpose')!r}")
    try:
        index = int(entry.get("statusListIndex"))
    except (TypeError, ValueError):
        raise InvalidInput("statusListIndex is not a whole number") from None
    return Bitstring.decode(subject.get("encodedList")).get(index)
