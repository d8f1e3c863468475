"""DID documents and resolution: did:key (computed locally) and did:web (node store, snapshots, peers).

Resolution never guesses: an unknown DID, a method we do not support, or a verification method the
controller has not authorised for the purpose is a typed failure.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import quote, unquote, urlsplit

from node.crypto import multibase
from node.crypto.data_integrity import KeyResolutionError
from node.crypto.keys import PublicKey

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]

LocalLookup = Callable[[str], Awaitable[dict[str, Any] | None]]
RemoteFetch = Callable[[str], Awaitable[dict[str, Any] | None]]


def did_of(verification_method: str) -> str:
    return verification_method.split("#", 1)[0]


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of a did:key (Ed25519 Multikey only)."""
    if not did.startswith("did:key:"):
        raise KeyResolutionError(f"not a did:key: {did}", "unsupported_did_method")
    public_mb = did[len("did:key:"):]
    try:
        multibase.decode_public_key(public_mb)
    except multibase.MultibaseError as exc:
        raise KeyResolutionError(f"did:key {did} is not an Ed25519 Multikey: {exc}", "invalid_did") from None
    vm_id = f"{did}#{public_mb}"
    return {
        "@context": DID_CONTEXTS,
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": public_mb}],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
    }


def did_web_from_url(base_url: str, *path: str) -> str:
    """did:web for a base URL plus path segments; a port is percent-encoded as the method requires."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise ValueError(f"base URL has no host: {base_url!r}")
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    segments = [s for p in ([parts.path.strip("/")] if parts.path.strip("/") else []) for s in p.split("/")]
    segments += [s for p in path for s in p.split(":") if s]
    return ":".join(["did:web", host, *[quote(s, safe="") for s in segments]])


def did_web_to_url(did: str) -> str:
    """Where a did:web document lives (https; http for loopback hosts used in tests and demos)."""
    if not did.startswith("did:web:"):
        raise KeyResolutionError(f"not a did:web: {did}", "unsupported_did_method")
    host, *path = did[len("did:web:"):].split(":")
    host = unquote(host)
    scheme = "http" if host.split(":")[0] in ("127.0.0.1", "localhost", "[::1]") else "https"
    if path:
        return f"{scheme}://{host}/{'/'.join(unquote(p) for p in path)}/did.json"
    return f"{scheme}://{host}/.well-known/did.json"


def find_verification_method(document: Mapping[str, Any], vm_id: str, purpose: str) -> PublicKey:
    """The public key of `vm_id` if the DID document lists it and authorises it for `purpose`."""
    did = did_of(vm_id)
    if document.get("id") != did:
        raise KeyResolutionError(f"DID document id {document.get('id')!r} does not match {did}", "did_mismatch")
    methods = {}
    for vm in document.get("verificationMethod") or []:
        if isinstance(vm, dict) and isinstance(vm.get("id"), str):
            methods[_absolute(did, vm["id"])] = vm
    authorised = set()
    for entry in document.get(purpose) or []:
        if isinstance(entry, str):
            authorised.add(_absolute(did, entry))
        elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
            methods[_absolute(did, entry["id"])] = entry
            authorised.add(_absolute(did, entry["id"]))
    vm = methods.get(vm_id)
    if vm is None:
        raise KeyResolutionError(f"{vm_id} is not in the DID document of {did}", "unknown_verification_method")
    if vm_id not in authorised:
        raise KeyResolutionError(f"{vm_id} is not authorised for {purpose}", "key_not_authorized")
    if vm.get("controller") != did:
        raise KeyResolutionError(f"{vm_id} is controlled by {vm.get('controller')!r}, not {did}", "controller_mismatch")
    if vm.get("type") != "Multikey" or not isinstance(vm.get("publicKeyMultibase"), str):
        raise KeyResolutionError(f"{vm_id} is not an Ed25519 Multikey", "unsupported_key_type")
    try:
        return PublicKey.from_multibase(vm["publicKeyMultibase"])
    except (ValueError, multibase.MultibaseError) as exc:
        raise KeyResolutionError(f"{vm_id}: {exc}", "invalid_public_key") from None


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref


class DidResolver:
    """Resolves DIDs: did:key locally; did:web from the node's own store, given documents, then peers.

    `documents` is a mapping DID → DID document (the CLI's --did-documents, or a federation snapshot);
    `remote` fetches a peer's did:web (the federation cache); neither is required.
    """

    def __init__(self, local: LocalLookup | None = None, documents: Mapping[str, dict] | None = None,
                 remote: RemoteFetch | None = None, *, local_refresh: LocalLookup | None = None) -> None:
        self._local = local
        self._documents = dict(documents or {})
        self._remote = remote
        # `local` may answer from a cache (the node's KeyStore); `local_refresh` reads the store itself,
        # asked only when a key is missing from the cached document (a key rotated in by another process).
        self._local_refresh = local_refresh

    def with_documents(self, documents: Mapping[str, dict]) -> "DidResolver":
        return DidResolver(self._local, {**self._documents, **documents}, self._remote, local_refresh=self._local_refresh)

    def with_remote(self, remote: RemoteFetch | None) -> "DidResolver":
        """The same resolver fetching unknown did:web documents with `remote` (one verification's budget)."""
        return DidResolver(self._local, self._documents, remote, local_refresh=self._local_refresh)

    async def resolve(self, did: str) -> dict[str, Any]:
        if not isinstance(did, str) or not did.startswith("did:"):
            raise KeyResolutionError(f"not a DID: {did!r}", "invalid_did")
        if did.startswith("did:key:"):
            return did_key_document(did)
        if not did.startswith("did:web:"):
            raise KeyResolutionError(f"unsupported DID method: {did.split(':')[1]}", "unsupported_did_method")
        if self._local is not None:
            document = await self._local(did)
            if document is not None:
                return document
        if did in self._documents:
            return self._documents[did]
        if self._remote is not None:
            document = await self._remote(did)
            if document is not None:
                return document
        raise KeyResolutionError(f"cannot resolve {did}: not hosted here and not in any known DID documents", "unresolvable_did")

    async def public_keys(self, vm_ids: list[str], purpose: str) -> dict[str, PublicKey | KeyResolutionError]:
        """Resolve each verification method; failures are returned, not raised, for per-proof reasons."""
        out: dict[str, PublicKey | KeyResolutionError] = {}
        for vm_id in vm_ids:
            try:
                out[vm_id] = await self._key(vm_id, purpose)
            except KeyResolutionError as exc:
                out[vm_id] = exc
            except Exception as exc:  # a broken document or fetcher fails this key, closed
                out[vm_id] = KeyResolutionError(f"{type(exc).__name__}: {exc}", "unresolvable_key")
        return out

    async def _key(self, vm_id: str, purpose: str) -> PublicKey:
        did = did_of(vm_id)
        try:
            return find_verification_method(await self.resolve(did), vm_id, purpose)
        except KeyResolutionError as exc:
            if exc.reason != "unknown_verification_method" or self._local_refresh is None or not did.startswith("did:web:"):
                raise
            fresh = await self._local_refresh(did)
            if fresh is None:
                raise
            return find_verification_method(fresh, vm_id, purpose)
