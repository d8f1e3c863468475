"""Ed25519 key pairs as Multikey, in the W3C vc-di-eddsa key-file shape.

A key file is `{"id", "controller", "publicKeyMultibase", "secretKeyMultibase"}`; `privateKeyMultibase`
(the vectors' own name) is read too. The secret never appears in repr() or logs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from node.crypto import multibase
from node.errors import InvalidInput


@dataclass(frozen=True)
class PublicKey:
    public_multibase: str
    _key: Ed25519PublicKey = field(repr=False, compare=False)

    @classmethod
    def from_multibase(cls, value: str) -> "PublicKey":
        return cls(value, Ed25519PublicKey.from_public_bytes(multibase.decode_public_key(value)))

    def __reduce__(self):  # picklable for worker processes
        return (PublicKey.from_multibase, (self.public_multibase,))

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self._key.verify(signature, message)
            return True
        except InvalidSignature:
            return False


@dataclass(frozen=True)
class KeyPair:
    """A signing key. `id` is the verification method (e.g. `did:web:x#key-1`)."""

    id: str
    controller: str
    public_multibase: str
    _private: Ed25519PrivateKey = field(repr=False, compare=False)

    @classmethod
    def generate(cls, controller: str | None = None, fragment: str | None = None) -> "KeyPair":
        return cls.from_seed(os.urandom(32), controller=controller, fragment=fragment)

    @classmethod
    def from_seed(cls, seed: bytes, controller: str | None = None, fragment: str | None = None) -> "KeyPair":
        private = Ed25519PrivateKey.from_private_bytes(seed)
        public_mb = multibase.encode_public_key(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        if controller is None:
            controller = f"did:key:{public_mb}"
        key_id = f"{controller}#{fragment or public_mb}"
        return cls(key_id, controller, public_mb, private)

    @classmethod
    def from_json(cls, data: Any) -> "KeyPair":
        if not isinstance(data, dict):
            raise InvalidInput("a key file must be a JSON object")
        secret = data.get("secretKeyMultibase") or data.get("privateKeyMultibase")
        if not isinstance(secret, str):
            raise InvalidInput("key file has no secretKeyMultibase")
        try:
            seed = multibase.decode_secret_key(secret)
            pair = cls.from_seed(seed)
        except ValueError as exc:
            raise InvalidInput(f"bad key file: {exc}") from None
        declared = data.get("publicKeyMultibase")
        if declared is not None and declared != pair.public_multibase:
            raise InvalidInput("key file's publicKeyMultibase does not match its secret key")
        controller = data.get("controller") or pair.controller
        key_id = data.get("id") or f"{controller}#{pair.public_multibase}"
        if not isinstance(controller, str) or not isinstance(key_id, str):
            raise InvalidInput("key file's id and controller must be strings")
        if key_id.startswith("#"):
            key_id = controller + key_id
        return cls(key_id, controller, pair.public_multibase, pair._private)

    @classmethod
    def load(cls, path: str | Path) -> "KeyPair":
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise InvalidInput(f"cannot read key file {path}: {exc.strerror}") from None
        except ValueError:
            raise InvalidInput(f"key file {path} is not JSON") from None
        return cls.from_json(data)

    def __reduce__(self):  # picklable for worker processes; the seed travels only over the pool's pipe
        return (_restore_keypair, (self.seed(), self.id, self.controller))

    def seed(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self.public_multibase, self._private.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def secret_multibase(self) -> str:
        return multibase.encode_secret_key(self.seed())

    def to_json(self, include_secret: bool = True) -> dict[str, str]:
        out = {"id": self.id, "controller": self.controller, "publicKeyMultibase": self.public_multibase}
        if include_secret:
            out["secretKeyMultibase"] = self.secret_multibase()
        return out

    def verification_method(self) -> dict[str, str]:
        """The public Multikey verification method, as listed in a DID document."""
        return {"id": self.id, "type": "Multikey", "controller": self.controller, "publicKeyMultibase": self.public_multibase}

    def save(self, path: str | Path) -> None:
        """Write the key file readable by the owner only (0600), created atomically with that mode."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.to_json(), fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)


def _restore_keypair(seed: bytes, key_id: str, controller: str) -> KeyPair:
    pair = KeyPair.from_seed(seed)
    return KeyPair(key_id, controller, pair.public_multibase, pair._private)
