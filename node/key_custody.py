"""Key custody: private keys sealed at rest in the database under a node master key kept outside it.

Every process and host of a node reads the same `identity_keys` rows, so a key created or rotated by
one is usable by all at once. Each private key (its 32-byte Ed25519 seed) is sealed by envelope
encryption: a fresh data key encrypts the seed (AES-256-GCM), and the master key wraps the data key
(AES-256-GCM). Both layers take as associated data the DID, the key id and the public key, so a sealed
value copied into another row (another identity, another key) no longer opens.

The master key (32 random bytes, base64url) comes from `PUENTE_MASTER_KEY` or from
`<data_dir>/secrets/master.key` (mode 0600, written by `puente init`); it never enters the database,
backups, logs or problems. Sealed values name the master key by a short fingerprint (`mk`), so a key
sealed under another master key is told apart from a damaged row.

Pure and synchronous: no database here; node.keystore does the I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from node.errors import ConfigurationError

MASTER_KEY_FILE = "master.key"
MASTER_KEY_ENV = "PUENTE_MASTER_KEY"
SEAL_VERSION = 1
_ALGORITHM = "A256GCM"


class KeyUnavailable(ConfigurationError):
    """A hosted identity's private key cannot be used (no master key, another master key, a damaged row).

    503: the node is up but cannot sign until its operator fixes the key custody; nothing is signed."""

    slug = "key-unavailable"
    title = "Signing key unavailable"
    status = 503


class SealBroken(Exception):
    """A sealed key that does not open; `reason` is safe to log (it never holds key material)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not a string")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _associated_data(did: str, key_id: str, public_multibase: str) -> bytes:
    return json.dumps(["puente-sealed-key", SEAL_VERSION, did, key_id, public_multibase]).encode("utf-8")


@dataclass(frozen=True)
class MasterKey:
    """The node master key. `source` says where it came from (the variable's name or the file's path)."""

    source: str
    _key: bytes = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str, source: str) -> "MasterKey":
        try:
            key = _unb64(text.strip())
        except (ValueError, binascii.Error):
            raise ConfigurationError(f"the master key in {source} is not base64url") from None
        if len(key) != 32:
            raise ConfigurationError(f"the master key in {source} must be 32 bytes (base64url), not {len(key)}")
        return cls(source, key)

    @classmethod
    def generate(cls, source: str) -> "MasterKey":
        return cls(source, os.urandom(32))

    def encoded(self) -> str:
        return _b64(self._key)

    @property
    def fingerprint(self) -> str:
        """A public name for this master key (not usable to recover it): which key sealed a row."""
        return hashlib.sha256(b"puente master key id\x00" + self._key).hexdigest()[:16]

    def seal(self, seed: bytes, *, did: str, key_id: str, public_multibase: str) -> str:
        aad = _associated_data(did, key_id, public_multibase)
        data_key = AESGCM.generate_key(bit_length=256)
        nonce, wrap_nonce = os.urandom(12), os.urandom(12)
        sealed = {
            "v": SEAL_VERSION, "alg": _ALGORITHM, "mk": self.fingerprint,
            "wn": _b64(wrap_nonce), "wk": _b64(AESGCM(self._key).encrypt(wrap_nonce, data_key, aad)),
            "n": _b64(nonce), "c": _b64(AESGCM(data_key).encrypt(nonce, seed, aad)),
        }
        return json.dumps(sealed, separators=(",", ":"), sort_keys=True)

    def unseal(self, sealed: str | None, *, did: str, key_id: str, public_multibase: str) -> bytes:
        """The seed, or SealBroken saying why not (another master key, a damaged or moved row)."""
        if not sealed:
            raise SealBroken("the database holds no key material for it")
        try:
            value = json.loads(sealed)
            if not isinstance(value, dict) or value.get("v") != SEAL_VERSION or value.get("alg") != _ALGORITHM:
                raise ValueError("unknown sealed-key format")
            parts = {name: _unb64(value[name]) for name in ("wn", "wk", "n", "c")}
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise SealBroken("its sealed key in the database is damaged (unreadable format)") from None
        if value.get("mk") != self.fingerprint:
            raise SealBroken(f"it is sealed under another master key (id {value.get('mk')!r}; this process has "
                             f"{self.fingerprint} from {self.source})")
        aad = _associated_data(did, key_id, public_multibase)
        try:
            data_key = AESGCM(self._key).decrypt(parts["wn"], parts["wk"], aad)
            seed = AESGCM(data_key).decrypt(parts["n"], parts["c"], aad)
        except (InvalidTag, ValueError):
            raise SealBroken("its sealed key does not open: the row was damaged or belongs to another key") from None
        if len(seed) != 32:
            raise SealBroken("its sealed key does not hold an Ed25519 seed")
        return seed


def sealed_under(sealed: str | None) -> str | None:
    """The fingerprint of the master key a sealed value names (None when unreadable)."""
    try:
        value = json.loads(sealed or "")
        return value.get("mk") if isinstance(value, dict) else None
    except ValueError:
        return None


def master_key_file(secrets_dir: Path) -> Path:
    return secrets_dir / MASTER_KEY_FILE


def load_master_key(configured: str | None, secrets_dir: Path) -> MasterKey | None:
    """The master key from the environment (`configured`, via Settings) or the file; None when neither."""
    if configured:
        return MasterKey.parse(configured, MASTER_KEY_ENV)
    path = master_key_file(secrets_dir)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"cannot read the master key file {path}: {(exc.strerror or str(exc)).lower()}") from None
    if stat.S_IMODE(mode) & 0o077:
        # Fail closed: a master key others could read no longer protects anything.
        raise ConfigurationError(f"the master key file {path} is readable by others: chmod 600 it (and consider "
                                 "rotating the node's keys)")
    try:
        return MasterKey.parse(path.read_text(), str(path))
    except OSError as exc:
        raise ConfigurationError(f"cannot read the master key file {path}: {(exc.strerror or str(exc)).lower()}") from None


def create_master_key_file(secrets_dir: Path) -> MasterKey:
    """Write a new master key (0600, never overwriting one); returns it."""
    path = master_key_file(secrets_dir)
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = MasterKey.generate(str(path))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created meanwhile by another process: use that one
        loaded = load_master_key(None, secrets_dir)
        assert loaded is not None
        return loaded
    with os.fdopen(fd, "w") as fh:
        fh.write(key.encoded() + "\n")
    return key
