"""The identities this node hosts (node, ministry, institutions), their did:web and their keys.

Public keys and key-file names live in the database; private keys live only in key files in
`settings.keys_dir` (mode 0600, written by `KeyPair.save`). Rotation retires a key without deleting
it: the DID document keeps listing it so signatures made before the rotation still verify.
Nothing here returns or logs a private key except `signing_key`, which hands a KeyPair to a signer.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from node.audit import record
from node.clock import Clock, SystemClock
from node.db.orm import IDENTITY_KINDS, Identity, IdentityKey
from node.db.uow import UnitOfWork
from node.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from node.settings import Settings

# Hosted DID documents are cached per process: verifying one of our credentials resolves its issuer's
# DID twice (proof, issuer binding), two queries each. Keys are only ever added (rotation retires, never
# deletes), so a cached document can only lack a key added since (by another process: `puente key rotate`);
# DidResolver then re-reads it fresh before failing a proof (refresh on miss). The TTL bounds anything else.
DID_DOCUMENT_TTL = 60.0
DID_DOCUMENT_ENTRIES = 1024

_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
DEFAULT_PATHS = {"node": "", "ministry": "ministry"}


def normalise_path(kind: str, path: str | None) -> str:
    """The URL path an identity is served under: "" for the node, "ministry", "institutions/<slug>"."""
    if kind not in IDENTITY_KINDS:
        raise InvalidInput(f"identity kind must be one of {', '.join(IDENTITY_KINDS)}, not {kind!r}")
    if path is None:
        if kind not in DEFAULT_PATHS:
            raise InvalidInput(f"an identity of kind {kind!r} needs a path, e.g. institutions/<slug>")
        path = DEFAULT_PATHS[kind]
    segments = [s for s in path.replace(":", "/").strip("/").split("/") if s]
    if kind == "node":
        if segments:
            raise InvalidInput("the node identity has no path (it is served at /.well-known/did.json)")
        return ""
    if not segments:
        raise InvalidInput(f"an identity of kind {kind!r} needs a non-empty path")
    for segment in segments:
        if not _SEGMENT.match(segment) or segment in (".well-known",) or set(segment) <= {"."}:
            raise InvalidInput(f"bad path segment {segment!r}: use lowercase letters, digits, '.', '_' or '-'")
    return "/".join(segments)


def key_file_name(path: str, seq: int, public_multibase: str) -> str:
    """A readable file name unique per key, e.g. institutions_intecap.key-2.Xy7Qa9Lm.json.

    The tail of the public key makes two racing creations write different files, so the loser can
    never overwrite the winner's private key.
    """
    stem = path.replace("/", "_") if path else "node"
    return f"{stem}.key-{seq}.{public_multibase[-8:]}.json"


class KeyStore:
    def __init__(self, settings: Settings, session_factory, *, clock: Clock | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._session_factory = session_factory
        self._clock = clock or SystemClock()
        self._loaded: dict[str, Any] = {}  # key id -> KeyPair; key ids never change meaning, so no invalidation
        self._monotonic = monotonic
        self._documents: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()  # did -> (expiry, document)

    # -- DIDs -------------------------------------------------------------------------------
    def did_for_path(self, path: str) -> str:
        from node.crypto.did import did_web_from_url

        if not self._settings.base_url:
            raise ConfigurationError("the node has no base_url: set it with puente init --base-url")
        try:
            return did_web_from_url(self._settings.base_url, *[s for s in path.split("/") if s])
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    @property
    def node_did(self) -> str:
        return self.did_for_path("")

    @property
    def ministry_did(self) -> str:
        return self.did_for_path(DEFAULT_PATHS["ministry"])

    # -- identities -------------------------------------------------------------------------
    async def create_identity(self, kind: str, name: str, path: str | None = None, *, jurisdiction: str | None = None):
        """Create a hosted identity with its first key; returns (did, KeyPair). Conflict if it exists.

        `jurisdiction` defaults to the node's; a demo or regional node may host another country's ministry.
        """
        from node.crypto.keys import KeyPair

        path = normalise_path(kind, path)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("an identity needs a name")
        did = self.did_for_path(path)
        jurisdiction = self._jurisdiction(jurisdiction)
        now = self._clock.now()
        async with UnitOfWork(self._session_factory) as uow:
            if await uow.session.get(Identity, did) is not None:
                raise Conflict(f"identity {did} already exists")
            taken = await uow.session.scalar(select(Identity.did).where(Identity.path == path))
            if taken is not None:
                raise Conflict(f"path {path!r} is already used by {taken}")
            key = KeyPair.generate(controller=did, fragment="key-1")
            file_name = key_file_name(path, 1, key.public_multibase)
            # The key file is written before the row: a failed commit leaves an unused file, never a
            # row whose private key is missing.
            key.save(self._settings.keys_dir / file_name)
            uow.session.add(Identity(did=did, kind=kind, name=name.strip(), jurisdiction=jurisdiction,
                                     path=path, created_at=now))
            try:
                await uow.session.flush()  # the identity row must exist before its key row (FK)
                uow.session.add(_key_row(key, did, 1, file_name, now))
                record(uow.session, "identity.create", did, at=now)
                await uow.commit()
            except IntegrityError:  # created concurrently by another request or process
                raise Conflict(f"identity {did} already exists") from None
        self._loaded[key.id] = key
        self._documents.pop(did, None)
        return did, key

    async def ensure_identity(self, kind: str, name: str, path: str | None = None, *,
                              jurisdiction: str | None = None) -> tuple[str, bool]:
        """Create the identity unless it already exists; returns (did, created)."""
        did = self.did_for_path(normalise_path(kind, path))
        if await self.identity(did) is not None:
            return did, False
        try:
            await self.create_identity(kind, name, path, jurisdiction=jurisdiction)
        except Conflict:
            if await self.identity(did) is None:  # a different conflict (e.g. the path), not a race
                raise
            return did, False
        return did, True

    async def identity(self, did: str) -> dict[str, Any] | None:
        async with UnitOfWork(self._session_factory) as uow:
            row = await uow.session.get(Identity, did)
            return _identity_json(row) if row is not None else None

    async def identities(self) -> list[dict[str, Any]]:
        async with UnitOfWork(self._session_factory) as uow:
            rows = (await uow.session.scalars(select(Identity).order_by(Identity.path))).all()
            return [_identity_json(row) for row in rows]

    async def did_for_url_path(self, path: str) -> str | None:
        """The DID served at /<path>/did.json, if this node hosts one there."""
        async with UnitOfWork(self._session_factory) as uow:
            return await uow.session.scalar(select(Identity.did).where(Identity.path == path.strip("/")))

    # -- keys -------------------------------------------------------------------------------
    async def signing_key(self, did: str):
        """The current (newest unretired) key of a hosted identity."""
        from node.crypto.keys import KeyPair

        async with UnitOfWork(self._session_factory) as uow:
            row = await self._current_key(uow, did)
            key_id, key_file, public_multibase = row.key_id, row.key_file, row.public_multibase
        if key_id in self._loaded:
            return self._loaded[key_id]
        try:
            key = KeyPair.load(self._settings.keys_dir / key_file)
        except InvalidInput as exc:
            raise ConfigurationError(f"key {key_id} is unusable: {exc.detail}") from None
        if key.id != key_id or key.public_multibase != public_multibase:
            raise ConfigurationError(f"key file {key_file} does not hold key {key_id}")
        self._loaded[key_id] = key
        return key

    async def rotate(self, did: str):
        """Retire the current key and create the next one; the old key stays in the DID document."""
        from node.crypto.keys import KeyPair

        now = self._clock.now()
        async with UnitOfWork(self._session_factory) as uow:
            current = await self._current_key(uow, did)
            identity = await uow.session.get(Identity, did)
            seq = (await uow.session.scalar(select(IdentityKey.seq).where(IdentityKey.did == did)
                                            .order_by(IdentityKey.seq.desc()).limit(1))) + 1
            key = KeyPair.generate(controller=did, fragment=f"key-{seq}")
            file_name = key_file_name(identity.path, seq, key.public_multibase)
            key.save(self._settings.keys_dir / file_name)
            current.retired_at = now
            uow.session.add(_key_row(key, did, seq, file_name, now))
            record(uow.session, "key.rotate", key.id, at=now)
            try:
                await uow.commit()
            except IntegrityError:  # another rotation of the same DID won the race for this key number
                raise Conflict(f"{did} is being rotated concurrently; try again") from None
        self._loaded[key.id] = key
        self._documents.pop(did, None)
        return key

    async def keys(self, did: str) -> list[dict[str, Any]]:
        """Public information about every key of an identity, oldest first."""
        async with UnitOfWork(self._session_factory) as uow:
            return [{"id": r.key_id, "publicKeyMultibase": r.public_multibase, "created": r.created_at,
                     "retired": r.retired_at} for r in await self._key_rows(uow, did)]

    # -- DID documents ----------------------------------------------------------------------
    async def did_document(self, did: str) -> dict[str, Any]:
        """The document served at did.json: always read from the database."""
        document = await self.resolve_local(did, fresh=True)
        if document is None:
            raise NotFound(f"{did} is not hosted on this node")
        return document

    async def resolve_local(self, did: str, *, fresh: bool = False) -> dict[str, Any] | None:
        """The DID document of a DID hosted here, or None (so DidResolver can look elsewhere). Cached
        (see DID_DOCUMENT_TTL); `fresh` reads the database and refreshes the cache. Callers get a copy."""
        import copy

        from node.crypto.did import DID_CONTEXTS

        cached = None if fresh else self._documents.get(did)
        if cached is not None and cached[0] > self._monotonic():
            return copy.deepcopy(cached[1])
        async with UnitOfWork(self._session_factory) as uow:
            rows = (await uow.session.execute(select(IdentityKey.key_id, IdentityKey.public_multibase)
                                              .where(IdentityKey.did == did).order_by(IdentityKey.seq))).all()
            if not rows and await uow.session.get(Identity, did) is None:
                self._documents.pop(did, None)
                return None  # not cached: an identity created later (by another process) is found at once
        methods = [{"id": key_id, "type": "Multikey", "controller": did, "publicKeyMultibase": public_multibase}
                   for key_id, public_multibase in rows]
        ids = [m["id"] for m in methods]
        document = {"@context": list(DID_CONTEXTS), "id": did, "verificationMethod": methods,
                    "assertionMethod": ids, "authentication": list(ids)}
        self._documents[did] = (self._monotonic() + DID_DOCUMENT_TTL, copy.deepcopy(document))
        self._documents.move_to_end(did)
        while len(self._documents) > DID_DOCUMENT_ENTRIES:
            self._documents.popitem(last=False)
        return document

    # -- helpers ----------------------------------------------------------------------------
    def _jurisdiction(self, given: str | None) -> str:
        if given is not None:
            code = str(given).strip().upper()
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise InvalidInput(f"jurisdiction must be an ISO 3166-1 alpha-2 code such as GT, not {given!r}")
            return code
        if not self._settings.jurisdiction:
            raise ConfigurationError("the node has no jurisdiction: set it with puente init --jurisdiction")
        return self._settings.jurisdiction

    @staticmethod
    async def _key_rows(uow: UnitOfWork, did: str) -> list[IdentityKey]:
        return list((await uow.session.scalars(select(IdentityKey).where(IdentityKey.did == did)
                                               .order_by(IdentityKey.seq))).all())

    @staticmethod
    async def _current_key(uow: UnitOfWork, did: str) -> IdentityKey:
        row = await uow.session.scalar(select(IdentityKey).where(IdentityKey.did == did, IdentityKey.retired_at.is_(None))
                                       .order_by(IdentityKey.seq.desc()).limit(1))
        if row is None:
            raise NotFound(f"{did} is not hosted on this node" if await uow.session.get(Identity, did) is None
                           else f"{did} has no active key")
        return row


def _key_row(key, did: str, seq: int, file_name: str, now) -> IdentityKey:
    return IdentityKey(key_id=key.id, did=did, seq=seq, public_multibase=key.public_multibase, key_file=file_name,
                       created_at=now)


def _identity_json(row: Identity) -> dict[str, Any]:
    return {"did": row.did, "kind": row.kind, "name": row.name, "jurisdiction": row.jurisdiction, "path": row.path}
