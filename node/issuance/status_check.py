"""The `status` stage of the verification pipeline (Bitstring Status List): `CredentialVerifier(status=...)`.

The pipeline runs it only for a credential whose proofs and issuer verified, so a forged document
never makes the node fetch anything. Every list, this node's own ones included, must be a credential
of the credential's issuer, signed by that issuer (proofs + issuer binding): a credential cannot point
at another institution's list. This node's lists are read from its database; anyone else's come through
the verification's fetch budget (SSRF rules, size/time caps, at most a few URLs per verification, see
node/outbound). Fails closed: an entry of an unknown type, a list that cannot be fetched, verified or
decoded (bounded inflate), or a mismatch between entry and list is a failed check, never a pass.

Entries: 1-bit "revocation"/"suspension" entries read one bit; 2-bit "message" entries (migration 0005)
map their value through the entry's own `statusMessage`. A set status fails with "revoked"/"suspended".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Awaitable, Callable, Sequence

from node.clock import parse_datetime
from node.issuance.status_list import (MESSAGE, REVOKED, SUSPENDED, StatusEntryError, entry_verdict, read_value,
                                       status_messages)
from node.verification import Check
from node.verification.checks import issuer_id
from node.verification.pipeline import Fetching

CHECK = "status"
MAX_ENTRIES = 8  # status entries per credential: a revocation and a suspension entry, with room to spare
OwnList = Callable[[str], Awaitable[tuple[str, str]]]  # list id -> (signed list text, digest)


class StatusUnavailable(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class StatusCheck:
    """`await StatusCheck(...)(credential, fetching)` -> [Check("status", ...)]."""

    check_name = CHECK

    def __init__(self, *, own_prefix: str | None = None, own_list: OwnList | None = None) -> None:
        self._own_prefix = own_prefix
        self._own_list_doc = own_list

    async def __call__(self, credential: dict[str, Any], fetching: Fetching) -> Sequence[Check]:
        entries = credential.get("credentialStatus")
        if entries is None:
            return [Check(CHECK, True, detail="the credential has no status entry")]
        entries = entries if isinstance(entries, list) else [entries]
        if not entries:
            return [Check(CHECK, False, "invalid_status_entry", "credentialStatus is empty")]
        if len(entries) > MAX_ENTRIES:
            return [Check(CHECK, False, "invalid_status_entry", f"more than {MAX_ENTRIES} status entries")]
        lists: dict[str, dict[str, Any]] = {}  # each list fetched and verified once per verification
        verdicts = []
        for entry in entries:
            try:
                verdicts.append(await self._entry(credential, entry, fetching, lists))
            except StatusUnavailable as exc:
                return [Check(CHECK, False, exc.reason, str(exc))]
            except Exception as exc:  # anything unexpected fails closed
                return [Check(CHECK, False, "status_error", f"{type(exc).__name__}: {exc}")]
        flagged = [(verdict, purpose, index, value) for purpose, index, value, verdict in verdicts if verdict]
        if not flagged:
            return [Check(CHECK, True, detail=", ".join(f"{p} [{i}]: {hex(v) if p == MESSAGE else 'not set'}"
                                                         for p, i, v, _ in verdicts))]
        found = {verdict for verdict, *_ in flagged}
        reason = REVOKED if REVOKED in found else SUSPENDED if SUSPENDED in found else "status_set"
        return [Check(CHECK, False, reason, "; ".join(
            f"{p} entry {i} is {hex(v)} ({verdict})" if p == MESSAGE else f"{p} bit {i} is set"
            for verdict, p, i, v in flagged))]

    async def _entry(self, credential: dict[str, Any], entry: Any, fetching: Fetching,
                     lists: dict[str, dict[str, Any]]) -> tuple[str, int, int, str | None]:
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
        if url not in lists:
            own = self._own_prefix and self._own_list_doc and url.startswith(self._own_prefix)
            listing = await (self._own_list(url) if own else self._remote_list(url, fetching))
            await self._check_list(credential, url, listing, fetching)
            lists[url] = listing
        try:
            value = read_value(lists[url], entry)
            verdict = entry_verdict(entry, value)
        except StatusEntryError as exc:
            raise StatusUnavailable(exc.reason, exc.detail) from None
        except Exception as exc:
            raise StatusUnavailable("invalid_status_list", getattr(exc, "detail", str(exc))) from None
        return str(entry.get("statusPurpose")), index, value, verdict

    async def _own_list(self, url: str) -> dict[str, Any]:
        from node.errors import NotFound

        try:
            text, _digest = await self._own_list_doc(url[len(self._own_prefix):])
        except NotFound:
            raise StatusUnavailable("status_unavailable", f"this node has no status list {url}") from None
        return json.loads(text)

    @staticmethod
    async def _remote_list(url: str, fetching: Fetching) -> dict[str, Any]:
        from node.outbound import REFUSED, FetchError

        if fetching.fetch_json is None:
            raise StatusUnavailable("status_unavailable", f"offline: status list {url} was not fetched")
        try:
            listing = await fetching.fetch_json(url)
        except FetchError as exc:  # typed, with our own sentence: never the remote's body or error text
            reason = "fetch_refused" if exc.reason == REFUSED else "status_unavailable"
            raise StatusUnavailable(reason, f"status list {url}: {exc.detail}") from None
        if not isinstance(listing, dict):
            raise StatusUnavailable("invalid_status_list", f"{url} is not a status list credential")
        return listing

    @staticmethod
    async def _check_list(credential: dict[str, Any], url: str, listing: dict[str, Any], fetching: Fetching) -> None:
        """The list is the credential issuer's, signed by the issuer, and current."""
        if issuer_id(listing) != issuer_id(credential):
            raise StatusUnavailable("status_issuer_mismatch", f"status list {url} is not issued by the credential's issuer")
        verified = await fetching.verify_signed(listing)
        if not verified.verified:
            failures = [c for c in verified.failures]
            if any(c.check == "issuer" for c in failures):
                raise StatusUnavailable("status_issuer_mismatch", f"status list {url} is not signed by the credential's issuer")
            raise StatusUnavailable("invalid_status_list", f"status list {url} does not verify: "
                                    + ", ".join(f"{c.check}: {c.reason}" for c in failures))
        valid_until = listing.get("validUntil")
        if valid_until and parse_datetime(valid_until) < fetching.now:
            raise StatusUnavailable("stale_status_list", f"status list {url} expired at {valid_until}")


def make_status_check(services=None) -> StatusCheck:
    """The status stage: with a node's services its own lists come from its database; without (a
    standalone verifier) every list is fetched. Offline is the pipeline's business (no outbound)."""
    if services is None:
        return StatusCheck()
    from node.issuance.service import IssuanceService

    issuance = IssuanceService.from_services(services)
    return StatusCheck(own_prefix=f"{issuance.base_url}/status/", own_list=issuance.status_list_document)
