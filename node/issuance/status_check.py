"""The `status` check of credential verification (Bitstring Status List), pluggable into
`node.crypto.credentials.CredentialVerifier(extra_checks=[...])`.

This node's own lists are read from its database (always current); anyone else's are fetched over
HTTP and must be signed by the credential's issuer. Fails closed: an entry of an unknown type, a list
that cannot be fetched, verified or decoded, or a mismatch between entry and list is a failed check,
never a pass.

A Puente credential has one "message" entry (statusSize 2): its value is mapped through the entry's
own `statusMessage` ("valid", "revoked", "suspended"); a malformed statusMessage or statusSize, or a
value whose message is none of those, fails closed (`invalid_status_entry`, `unknown_status`).
Single-purpose entries ("revocation", "suspension"; earlier credentials, the W3C examples) are read as
one bit. Either way a set status is a failed `status` check with reason "revoked" or "suspended".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Awaitable, Callable, Sequence

from node.clock import parse_datetime
from node.issuance.status_list import (MESSAGE, REVOKED, SUSPENDED, StatusEntryError, entry_verdict, read_value,
                                       status_messages)
from node.verification import Check

CHECK = "status"
Fetch = Callable[[str], Awaitable[dict[str, Any]]]
MAX_LIST_BYTES = 2 * 1024 * 1024  # a 131,072-bit list compresses to a few KB; refuse absurd answers


class StatusUnavailable(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


async def http_fetch(url: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """GET a status list credential as JSON (the default fetcher; tests inject their own or use 127.0.0.1)."""
    import aiohttp

    if not url.startswith(("https://", "http://")):
        raise StatusUnavailable("status_unavailable", f"status list URL is not http(s): {url}")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.get(url, headers={"Accept": "application/vc+ld+json, application/json"}) as response:
            if response.status != 200:
                raise StatusUnavailable("status_unavailable", f"GET {url} answered {response.status}")
            body = await response.content.read(MAX_LIST_BYTES + 1)
            if len(body) > MAX_LIST_BYTES:
                raise StatusUnavailable("status_unavailable", f"status list at {url} is too large")
            return json.loads(body)


OwnList = Callable[[str], Awaitable[tuple[str, str]]]  # list id -> (signed list text, digest)
VerifyList = Callable[[dict[str, Any], datetime], Awaitable[Any]]  # -> VerificationResult


class StatusCheck:
    """`await StatusCheck(...)(credential, now)` -> [Check("status", ...)]."""

    check_name = CHECK

    def __init__(self, *, own_prefix: str | None = None, own_list: OwnList | None = None, fetch: Fetch | None = None,
                 verify_list: VerifyList | None = None) -> None:
        self._own_prefix = own_prefix
        self._own_list_doc = own_list
        self._fetch = fetch  # None: offline, remote lists cannot be checked
        self._verify_list = verify_list

    async def __call__(self, credential: dict[str, Any], now: datetime) -> Sequence[Check]:
        entries = credential.get("credentialStatus")
        if entries is None:
            return [Check(CHECK, True, detail="the credential has no status entry")]
        entries = entries if isinstance(entries, list) else [entries]
        verdicts = []
        for entry in entries:
            try:
                verdicts.append(await self._entry(credential, entry, now))
            except StatusUnavailable as exc:
                return [Check(CHECK, False, exc.reason, str(exc))]
            except Exception as exc:  # anything unexpected fails closed
                return [Check(CHECK, False, "status_error", f"{type(exc).__name__}: {exc}")]
        if not verdicts:
            return [Check(CHECK, False, "invalid_status_entry", "credentialStatus is empty")]
        flagged = [(verdict, purpose, index, value) for purpose, index, value, verdict in verdicts if verdict]
        if not flagged:
            return [Check(CHECK, True, detail=", ".join(f"{p} [{i}]: {hex(v) if p == MESSAGE else 'not set'}"
                                                         for p, i, v, _ in verdicts))]
        found = {verdict for verdict, *_ in flagged}
        reason = REVOKED if REVOKED in found else SUSPENDED if SUSPENDED in found else "status_set"
        return [Check(CHECK, False, reason, "; ".join(
            f"{p} entry {i} is {hex(v)} ({verdict})" if p == MESSAGE else f"{p} bit {i} is set"
            for verdict, p, i, v in flagged))]

    async def _entry(self, credential: dict[str, Any], entry: Any, now: datetime) -> tuple[str, int, int, str | None]:
        """(purpose, index, value read, verdict: None | "revoked" | "suspended" | another purpose)."""

        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            kind = entry.get("type") if isinstance(entry, dict) else type(entry).__name__
            raise StatusUnavailable("unsupported_status", f"status entry of type {kind!r} cannot be checked")
        url = entry.get("statusListCredential")
        if not isinstance(url, str):
            raise StatusUnavailable("invalid_status_entry", "status entry has no statusListCredential")
        try:
            status_messages(entry)  # a malformed statusSize/statusMessage is refused before any fetch
            index = int(entry.get("statusListIndex"))
        except StatusEntryError as exc:
            raise StatusUnavailable(exc.reason, exc.detail) from None
        except (TypeError, ValueError):
            raise StatusUnavailable("invalid_status_entry", "statusListIndex is not a whole number") from None
        if self._own_prefix and self._own_list_doc and url.startswith(self._own_prefix):
            listing = await self._own_list(url)
        else:
            listing = await self._remote_list(credential, url, now)
        try:
            value = read_value(listing, entry)
        except StatusEntryError as exc:
            raise StatusUnavailable(exc.reason, exc.detail) from None
        except Exception as exc:
            raise StatusUnavailable("invalid_status_list", getattr(exc, "detail", str(exc))) from None
        try:
            verdict = entry_verdict(entry, value)
        except StatusEntryError as exc:
            raise StatusUnavailable(exc.reason, exc.detail) from None
        return str(entry.get("statusPurpose")), index, value, verdict

    async def _own_list(self, url: str) -> dict[str, Any]:
        from node.errors import NotFound

        try:
            text, _digest = await self._own_list_doc(url[len(self._own_prefix):])
        except NotFound:
            raise StatusUnavailable("status_unavailable", f"this node has no status list {url}") from None
        return json.loads(text)

    async def _remote_list(self, credential: dict[str, Any], url: str, now: datetime) -> dict[str, Any]:
        from node.crypto.credentials import issuer_id

        if self._fetch is None:
            raise StatusUnavailable("status_unavailable", f"offline: cannot fetch status list {url}")
        try:
            listing = await self._fetch(url)
        except StatusUnavailable:
            raise
        except Exception as exc:
            raise StatusUnavailable("status_unavailable", f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
        if not isinstance(listing, dict):
            raise StatusUnavailable("invalid_status_list", f"{url} is not a status list credential")
        if issuer_id(listing) != issuer_id(credential):
            raise StatusUnavailable("status_issuer_mismatch", f"status list {url} is not issued by the credential's issuer")
        if self._verify_list is None:
            raise StatusUnavailable("status_unverifiable", "no way to verify a remote status list's signature")
        verified = await self._verify_list(listing, now)
        if not verified.verified:
            errors = ", ".join(verified.to_json().get("errors", []))
            raise StatusUnavailable("invalid_status_list", f"status list {url} does not verify: {errors}")
        valid_until = listing.get("validUntil")
        if valid_until and parse_datetime(valid_until) < now:
            raise StatusUnavailable("stale_status_list", f"status list {url} expired at {valid_until}")
        return listing


def make_status_check(services=None, *, offline: bool = False, fetch: Fetch | None = None, resolver=None) -> StatusCheck:
    """The status check for `CredentialVerifier(extra_checks=[...])`.

    With a node's services: its own lists come from its database and remote lists are verified with its
    signer and resolver. Without (a standalone verifier): remote lists only, verified in-process.
    `offline`: never fetch; a credential whose list is not this node's then fails the check (closed).
    """
    fetcher = None if offline else (fetch or http_fetch)
    if services is None:
        return StatusCheck(fetch=fetcher, verify_list=_standalone_verifier(resolver))
    from node.issuance.service import IssuanceService

    issuance = IssuanceService.from_services(services)

    async def verify_list(listing: dict[str, Any], now: datetime):
        return await services.signer.verify(listing, resolver or services.resolver, now=now)

    return StatusCheck(own_prefix=f"{issuance.base_url}/status/", own_list=issuance.status_list_document,
                       fetch=fetcher, verify_list=verify_list)


def _standalone_verifier(resolver=None) -> VerifyList:
    async def verify_list(listing: dict[str, Any], now: datetime):
        from node.crypto.data_integrity import verify_document
        from node.crypto.did import DidResolver

        proofs = listing.get("proof")
        proofs = proofs if isinstance(proofs, list) else [proofs]
        vm_ids = sorted({p["verificationMethod"] for p in proofs if isinstance(p, dict) and isinstance(p.get("verificationMethod"), str)})
        keys = await (resolver or DidResolver()).public_keys(vm_ids, "assertionMethod")

        def lookup(vm_id: str):
            found = keys.get(vm_id)
            if found is None or isinstance(found, Exception):
                raise found or KeyError(vm_id)
            return found

        return verify_document(listing, lookup, now=now)

    return verify_list
