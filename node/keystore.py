"""The identities this node hosts (node, ministry, institutions), their did:web and their keys.

Public keys and sealed private keys live in the database (node.key_custody: envelope encryption under
the node master key, which stays outside the database), so every process and host of a node signs with
the key the database names as current, at once after a rotation. Key files of older nodes
(`settings.keys_dir`) are imported into the database once (`import_key_files`, at start and on
`puente db upgrade`) and never read again. Rotation retires a key without deleting it: the DID document
keeps listing it so signatures made before the rotation still verify.
Nothing here returns or logs a private key except `signing_key`, which hands a KeyPair to a signer; a key
that cannot be used is an ERROR log line naming the DID and a `KeyUnavailable` (503 key-unavailable).
"""

from __future__ import annotations

import logging
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
from node.key_custody import (KeyUnavailable, MasterKey, SealBroken, create_master_key_file, load_master_key,
                              sealed_under)
from node.logging import get_logger, log_event
from node.settings import Settings

_log = get_logger("node.keystore")

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
    """(Nodes before key custody wrote one key file per key under this name; import_key_files reads them.)
    A readable file name unique per key, e.g. institutions_intecap.key-2.Xy7Qa9Lm.json.

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
        # (key id, public key) -> KeyPair. Which key is current is read from the database at every signing;
        # only the unsealed pair of that exact key is reused, so a rotation elsewhere is seen at once.
        self._loaded: dict[tuple[str, str], Any] = {}
        self._master: MasterKey | None = None
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
            sealed = self._seal(key, did)
            uow.session.add(Identity(did=did, kind=kind, name=name.strip(), jurisdiction=jurisdiction,
                                     path=path, created_at=now))
            try:
                await uow.session.flush()  # the identity row must exist before its key row (FK)
                uow.session.add(_key_row(key, did, 1, sealed, now))
                record(uow.session, "identity.create", did, at=now)
                await uow.commit()
            except IntegrityError:  # created concurrently by another request or process
                raise Conflict(f"identity {did} already exists") from None
        self._loaded[(key.id, key.public_multibase)] = key
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
            key_id, sealed, public_multibase = row.key_id, row.sealed_key, row.public_multibase
        cached = self._loaded.get((key_id, public_multibase))
        if cached is not None:
            return cached
        try:
            master = self._master_key()
            if master is None:
                raise SealBroken("this process has no master key (set PUENTE_MASTER_KEY or put it in "
                                 f"{self._settings.secrets_dir / 'master.key'})")
            seed = master.unseal(sealed, did=did, key_id=key_id, public_multibase=public_multibase)
            pair = KeyPair.from_seed(seed)
            if pair.public_multibase != public_multibase:
                raise SealBroken("its sealed key does not match its public key")
        except (SealBroken, ConfigurationError) as exc:
            reason = exc.reason if isinstance(exc, SealBroken) else exc.detail
            log_event(_log, "key_unavailable", level=logging.ERROR, did=did, key_id=key_id, reason=reason)
            raise KeyUnavailable(f"the signing key of {did} cannot be used: {reason}", did=did) from None
        key = KeyPair(key_id, did, public_multibase, pair._private)
        self._loaded[(key_id, public_multibase)] = key
        return key

    async def rotate(self, did: str):
        """Retire the current key and create the next one; the old key stays in the DID document."""
        from node.crypto.keys import KeyPair

        now = self._clock.now()
        async with UnitOfWork(self._session_factory) as uow:
            current = await self._current_key(uow, did)
            seq = (await uow.session.scalar(select(IdentityKey.seq).where(IdentityKey.did == did)
                                            .order_by(IdentityKey.seq.desc()).limit(1))) + 1
            key = KeyPair.generate(controller=did, fragment=f"key-{seq}")
            sealed = self._seal(key, did)
            current.retired_at = now
            uow.session.add(_key_row(key, did, seq, sealed, now))
            record(uow.session, "key.rotate", key.id, at=now)
            try:
                await uow.commit()
            except IntegrityError:  # another rotation of the same DID won the race for this key number
                raise Conflict(f"{did} is being rotated concurrently; try again") from None
        self._loaded[(key.id, key.public_multibase)] = key
        self._documents.pop(did, None)
        return key

    # -- custody ----------------------------------------------------------------------------
    def _master_key(self) -> MasterKey | None:
        """The master key, read once per process (PUENTE_MASTER_KEY, else secrets/master.key)."""
        if self._master is None:
            self._master = load_master_key(self._settings.master_key, self._settings.secrets_dir)
        return self._master

    def master_key_fingerprint(self) -> str | None:
        master = self._master_key()
        return master.fingerprint if master is not None else None

    def ensure_master_key(self) -> MasterKey:
        """The master key, creating `secrets/master.key` when none is configured (`puente init`)."""
        master = self._master_key()
        if master is None:
            master = self._master = create_master_key_file(self._settings.secrets_dir)
        return master

    async def check_master_key_for_database(self) -> None:
        """Refuse to set up a data directory whose master key (or lack of one) cannot open the keys already
        in the database: another host of an existing node needs that node's master key, not a new one."""
        async with UnitOfWork(self._session_factory) as uow:
            sealed = (await uow.session.scalars(select(IdentityKey.sealed_key)
                                                .where(IdentityKey.sealed_key.is_not(None)))).all()
        needed = sorted({mk for value in sealed if (mk := sealed_under(value))})
        if not needed:
            return
        master = self._master_key()
        if master is None or master.fingerprint not in needed:
            mine = f"this host has {master.fingerprint} from {master.source}" if master else "this host has none"
            raise KeyUnavailable(f"the keys in this database are sealed under master key {', '.join(needed)} and "
                                 f"{mine}: give this host the node's master key (PUENTE_MASTER_KEY, or a copy of "
                                 f"secrets/master.key at {self._settings.secrets_dir / 'master.key'}, mode 0600)")

    def _seal(self, key, did: str) -> str:
        try:
            master = self._master_key()
        except ConfigurationError as exc:  # unreadable, malformed or world-readable master key
            log_event(_log, "key_unavailable", level=logging.ERROR, did=did, reason=exc.detail)
            raise KeyUnavailable(f"cannot store a key for {did}: {exc.detail}", did=did) from None
        if master is None:
            log_event(_log, "key_unavailable", level=logging.ERROR, did=did, reason="no master key")
            raise KeyUnavailable(f"cannot store a key for {did}: this process has no master key (set "
                                 f"PUENTE_MASTER_KEY or put it in {self._settings.secrets_dir / 'master.key'})", did=did)
        return master.seal(key.seed(), did=did, key_id=key.id, public_multibase=key.public_multibase)

    async def import_key_files(self) -> dict[str, Any]:
        """Seal into the database the keys of an older node that still live only in key files.

        Idempotent: only rows without a sealed key are looked at, and each is sealed once. A row whose
        file is not here (another host holds it) is left for that host and reported. When files are
        found and no master key is configured, the master key file is created (the node's first one)."""
        from node.crypto.keys import KeyPair

        async with UnitOfWork(self._session_factory) as uow:
            pending = list((await uow.session.scalars(select(IdentityKey).where(
                IdentityKey.sealed_key.is_(None), IdentityKey.key_file.is_not(None)))).all())
            if not pending:
                return {"imported": [], "not_found": []}
            imported, not_found = [], []
            for row in pending:
                path = self._settings.keys_dir / row.key_file
                if not path.exists():
                    not_found.append(row.key_id)
                    continue
                try:
                    pair = KeyPair.load(path)
                except InvalidInput as exc:
                    log_event(_log, "key_import_failed", level=logging.ERROR, did=row.did, key_id=row.key_id,
                              reason=exc.detail)
                    not_found.append(row.key_id)
                    continue
                if pair.public_multibase != row.public_multibase:
                    log_event(_log, "key_import_failed", level=logging.ERROR, did=row.did, key_id=row.key_id,
                              reason="the key file holds another key")
                    not_found.append(row.key_id)
                    continue
                master = self.ensure_master_key()
                row.sealed_key = master.seal(pair.seed(), did=row.did, key_id=row.key_id,
                                             public_multibase=row.public_multibase)
                record(uow.session, "key.import", row.key_id, at=self._clock.now())
                imported.append(row.key_id)
            if imported:
                await uow.commit()
        for key_id in imported:
            log_event(_log, "key_imported", key_id=key_id)
        for key_id in not_found:
            log_event(_log, "key_not_imported", level=logging.WARNING, key_id=key_id,
                      reason="no usable key file in this data directory")
        return {"imported": imported, "not_found": not_found}

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


def _key_row(key, did: str, seq: int, sealed: str, now) -> IdentityKey:
    return IdentityKey(key_id=key.id, did=did, seq=seq, public_multibase=key.public_multibase, key_file=None,
                       sealed_key=sealed, created_at=now)


def _identity_json(row: Identity) -> dict[str, Any]:
    return {"did": row.did, "kind": row.kind, "name": row.name, "jurisdiction": row.jurisdiction, "path": row.path}
