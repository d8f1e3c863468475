"""Multibase base58btc and the two multicodec prefixes Ed25519 Multikeys use."""

from __future__ import annotations

import base58

ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub (varint 0xed)
ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv (varint 0x1300)


class MultibaseError(ValueError):
    pass


def encode_base58btc(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def decode_base58btc(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise MultibaseError("expected a base58btc multibase string starting with 'z'")
    try:
        return base58.b58decode(value[1:])
    except ValueError as exc:
        raise MultibaseError(f"not base58btc: {exc}") from None


def encode_public_key(raw: bytes) -> str:
    if len(raw) != 32:
        raise MultibaseError("an Ed25519 public key has 32 bytes")
    return encode_base58btc(ED25519_PUB + raw)


def decode_public_key(value: str) -> bytes:
    data = decode_base58btc(value)
    if not data.startswith(ED25519_PUB) or len(data) != 34:
        raise MultibaseError("not an Ed25519 Multikey public key (want prefix 0xed01 and 32 bytes)")
    return data[2:]


def encode_secret_key(seed: bytes) -> str:
    return encode_base58btc(ED25519_PRIV + seed)


def decode_secret_key(value: str) -> bytes:
    """Return the 32-byte seed; 64-byte secrets (seed || public key) are accepted too."""
    data = decode_base58btc(value)
    if not data.startswith(ED25519_PRIV) or len(data) not in (34, 66):
        raise MultibaseError("not an Ed25519 Multikey secret key (want prefix 0x8026 and 32 or 64 bytes)")
    return data[2:34]
