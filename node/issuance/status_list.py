"""Bitstring Status List (W3C): the bitstring, its encoding, index allocation and the list credential.

Puente credentials carry a 1-bit `credentialStatus` entry of purpose "revocation" (one object: the OB
3.0 schema allows a single one), and a second 1-bit entry of purpose "suspension" where the institution
turned suspension on. One bit per entry, each purpose in lists of its own, because that is what wallets
read: the DCC verifier-core (VerifierPlus, Learner Credential Wallet) reads the bit at statusListIndex
and ignores statusSize.

Credentials issued under migration 0005 carry ONE 2-bit entry of purpose "message" (`statusSize` 2:
entry i is the value at bits [2i, 2i+2), most significant bit first; 0x1 revoked, 0x2 suspended, 0x3
revoked). Those lists are still kept current and read, mapped through the entry's `statusMessage`.

Pure. Indexes are allocated by a keyed pseudo-random permutation of [0, size): slot n of a list maps
to `permute(key, n)`. A counter per list then gives indexes that look random to an observer (so a
list does not leak issuance order or volume) and can never collide, without a retry loop.
"""

from __future__ import annotations

import base64
import gzip
import zlib
import hashlib
import hmac
from datetime import datetime
from typing import Any

from node.clock import isoformat_z
from node.errors import InvalidInput

LIST_SIZE = 131_072  # entries per list: the spec's minimum (2**17), for herd privacy
MESSAGE = "message"
REVOCATION, SUSPENSION = "revocation", "suspension"
PURPOSES = (REVOCATION, SUSPENSION)  # 1-bit lists: what new credentials point into
LIST_PURPOSES = (MESSAGE, *PURPOSES)
STATUS_SIZE = 2  # bits per entry of a "message" list
MAX_STATUS_SIZE = 8  # the largest statusSize an entry may declare (entry_status_size)
REVOKED_BIT = 0x1
SUSPENDED_BIT = 0x2
VALID, REVOKED, SUSPENDED = "valid", "revoked", "suspended"
# value -> message, for every value a 2-bit entry can hold (the spec wants all 2**statusSize of them)
STATUS_MESSAGES = {0x0: VALID, REVOKED_BIT: REVOKED, SUSPENDED_BIT: SUSPENDED, REVOKED_BIT | SUSPENDED_BIT: REVOKED}
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


# Inflated encodedLists that passed every bound, by (encodedList, bound): decoding is pure, and a
# node verifying its own credentials inflates the same few lists on every request. Only successes,
# only modest encodings (an encodedList of the minimum 131,072 bits is a few hundred bytes to ~30 KB).
_INFLATED: dict[tuple[str, int], bytes] = {}
_INFLATED_ENTRIES = 64
_INFLATED_MAX_ENCODED = 64 * 1024


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

    def get_value(self, index: int, width: int = 1) -> int:
        """The `width`-bit value of entry `index` (bits [index*width, index*width + width), MSB first)."""
        self._check_entry(index, width)
        value = 0
        for bit in range(index * width, index * width + width):
            value = value << 1 | self.get(bit)
        return value

    def set_value(self, index: int, value: int, width: int = 1) -> None:
        self._check_entry(index, width)
        if not 0 <= value < 1 << width:
            raise InvalidInput(f"status value {value} does not fit in {width} bit(s)")
        for offset in range(width):
            self.set(index * width + offset, bool(value >> (width - 1 - offset) & 1))

    def entries(self, width: int = 1) -> int:
        return self.size // width

    def _check_entry(self, index: int, width: int) -> None:
        if not isinstance(width, int) or width < 1:
            raise InvalidInput(f"statusSize must be a positive whole number, not {width!r}")
        if not 0 <= index < self.size // width:
            raise InvalidInput(f"status index {index} is outside the list (0..{self.size // width - 1})")

    def count(self) -> int:
        return sum(bin(b).count("1") for b in self._bytes)

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        """GZIP, then base64url without padding, with the multibase prefix 'u'."""
        compressed = gzip.compress(self.to_bytes(), mtime=0)  # mtime=0: same bits, same encoding
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: Any, max_bits: int = MAX_STATUS_SIZE * LIST_SIZE) -> "Bitstring":
        """Inflate an encodedList, streamed and bounded: more than `max_bits` is refused (a few KB of
        GZIP can inflate to gigabytes), as is anything after the one GZIP member."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise InvalidInput("encodedList must be a multibase base64url string starting with 'u'")
        known = _INFLATED.get((encoded, max_bits))
        if known is not None:  # every verification of a popular list reads the same encodedList
            return cls(len(known) * 8, known)
        body = encoded[1:]
        limit = max_bits // 8
        try:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing
            raw = inflater.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), limit + 1)
            if len(raw) > limit or inflater.unconsumed_tail:
                raise StatusEntryError("status_list_too_large",
                                       f"encodedList inflates to more than {max_bits} bits; refused")
            if not inflater.eof or inflater.unused_data:
                raise InvalidInput("encodedList is not exactly one complete GZIP member")
        except (ValueError, zlib.error) as exc:
            raise InvalidInput(f"encodedList is not GZIP-compressed base64url: {exc}") from None
        if not raw:
            raise InvalidInput("encodedList is empty")
        if len(encoded) <= _INFLATED_MAX_ENCODED:
            if len(_INFLATED) >= _INFLATED_ENTRIES:
                _INFLATED.pop(next(iter(_INFLATED)))
            _INFLATED[(encoded, max_bits)] = raw
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


def width(purpose: str) -> int:
    """Bits per entry of one of our lists: 1 for "revocation"/"suspension", 2 for the 0005 "message" lists."""
    return STATUS_SIZE if purpose == MESSAGE else 1


def status_entry(list_url: str, purpose: str, index: int) -> dict[str, Any]:
    """A 1-bit `credentialStatus` entry (purpose "revocation" or "suspension"): no statusSize, no statusMessage."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def message_entry(list_url: str, index: int) -> dict[str, Any]:
    """The 2-bit "message" entry of credentials issued under migration 0005 (kept to read and test them)."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": MESSAGE,
        "statusSize": STATUS_SIZE,
        "statusMessage": [{"status": hex(value), "message": message} for value, message in sorted(STATUS_MESSAGES.items())],
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def list_credential(list_url: str, issuer: str, purpose: str, bits: Bitstring, valid_from: datetime) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential for one list."""
    if purpose not in LIST_PURPOSES:
        raise InvalidInput(f"status purpose must be one of {LIST_PURPOSES}")
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


class StatusEntryError(InvalidInput):
    """A status entry or list that cannot be read; `reason` is the verification check's typed reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def entry_status_size(entry: dict[str, Any]) -> int:
    """The entry's statusSize (default 1); anything but a positive whole number is refused."""
    size = entry.get("statusSize", 1)
    if isinstance(size, str) and size.isdigit():
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 8:
        raise StatusEntryError("invalid_status_entry", f"statusSize must be a whole number from 1 to 8, not {size!r}")
    return size


def status_messages(entry: dict[str, Any]) -> dict[int, str] | None:
    """The entry's statusMessage as {value: message}; None when it has none. It must name each of the
    2**statusSize values exactly once (as the spec requires), or the entry is refused."""
    size = entry_status_size(entry)
    listed = entry.get("statusMessage")
    if listed is None:
        if size > 1 or entry.get("statusPurpose") == MESSAGE:
            raise StatusEntryError("invalid_status_entry", "a message entry (or statusSize > 1) needs a statusMessage")
        return None
    if not isinstance(listed, list) or len(listed) != 1 << size:
        count = len(listed) if isinstance(listed, list) else type(listed).__name__
        raise StatusEntryError("invalid_status_entry",
                               f"statusMessage must have 2**statusSize = {1 << size} entries, not {count}")
    out: dict[int, str] = {}
    for item in listed:
        status = item.get("status") if isinstance(item, dict) else None
        message = item.get("message") if isinstance(item, dict) else None
        try:
            if not isinstance(status, str) or not status.lower().startswith("0x"):
                raise ValueError
            value = int(status, 16)
        except ValueError:
            raise StatusEntryError("invalid_status_entry", f"statusMessage status {status!r} is not a 0x hex value") from None
        if not isinstance(message, str) or value in out or not 0 <= value < 1 << size:
            raise StatusEntryError("invalid_status_entry",
                                   f"statusMessage entry for {status!r} is repeated, out of range or has no message")
        out[value] = message
    return out


def read_value(list_document: dict[str, Any], entry: dict[str, Any]) -> int:
    """The entry's statusSize-bit value in the given list credential. Mismatches are errors, not 'unset'."""
    status_messages(entry)  # statusSize and statusMessage must be well-formed before anything is read
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
    size = entry_status_size(entry)
    if "statusSize" in subject and subject.get("statusSize") != size:
        raise StatusEntryError("invalid_status_list", f"the list's statusSize {subject.get('statusSize')!r} is not the entry's {size}")
    try:
        index = int(entry.get("statusListIndex"))
    except (TypeError, ValueError):
        raise InvalidInput("statusListIndex is not a whole number") from None
    # The list may hold at most statusSize x LIST_SIZE bits (the spec's minimum length, which every
    # list Puente and the common wallets issue has): a bigger inflation is refused, never allocated.
    bits = Bitstring.decode(subject.get("encodedList"), max_bits=size * LIST_SIZE)
    if bits.entries(size) < LIST_SIZE:
        raise StatusEntryError("invalid_status_list", f"status list holds {bits.entries(size)} entries of {size} bit(s); "
                               f"the spec requires at least {LIST_SIZE}")
    return bits.get_value(index, size)


def read_status(list_document: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether any status is set for the entry (for a single-bit entry: its bit)."""
    return read_value(list_document, entry) != 0


def entry_verdict(entry: dict[str, Any], value: int) -> str | None:
    """What a read value means: None (nothing set), "revoked", "suspended", or for a single-bit entry
    of another purpose that purpose. A message entry maps the value through its statusMessage; a value
    whose message Puente does not understand fails closed (StatusEntryError "unknown_status")."""
    purpose = entry.get("statusPurpose")
    messages = status_messages(entry)
    if purpose != MESSAGE:
        if messages is not None and entry_status_size(entry) > 1:
            raise StatusEntryError("unsupported_status", f"multi-bit {purpose!r} entries are not supported")
        if value == 0:
            return None
        return {"revocation": REVOKED, "suspension": SUSPENDED}.get(purpose, str(purpose))
    message = messages.get(value) if messages else None
    if message is None:
        raise StatusEntryError("unknown_status", f"status value {hex(value)} has no statusMessage")
    normalised = message.strip().lower()
    if normalised in (VALID, REVOKED, SUSPENDED):
        return None if normalised == VALID else normalised
    raise StatusEntryError("unknown_status", f"status value {hex(value)} means {message!r}, which this verifier does not know")
