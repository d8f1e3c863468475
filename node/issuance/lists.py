"""Status lists in storage: allocating entries for new credentials and re-signing a list on change.

Herd privacy: a list is only worth as much as the number of credentials in it, so an institution has at
most one open list per purpose (a partial unique index, migration 0008) and fills it before the next one
is opened; indexes inside it are a keyed pseudo-random permutation of the slot counter. Locks: none is
ever held while something is signed (see docs/operator.md, "Lock analysis")."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from node.errors import Conflict
from node.issuance.orm import StatusListRow
from node.issuance.repository import IssuanceRepository
from node.issuance.status_list import (LIST_SIZE, MESSAGE, REVOCATION, Bitstring, list_credential, message_entry, permute,
                                       status_entry, width)

LIST_SUITE = "eddsa-rdfc-2022"


def serialise(document: dict[str, Any]) -> tuple[str, str]:
    """The bytes we store and serve for a signed document, and their SHA-256 (also the ETag)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Allocation:
    """One status entry of a credential: an index in one list of one purpose. New credentials get
    1-bit "revocation" (and, where the institution turned it on, "suspension") entries; "message"
    (2-bit) allocations only exist for credentials issued under migration 0005."""

    list_id: str
    index: int
    purpose: str = REVOCATION

    def entry(self, base_url: str) -> dict[str, Any]:
        url = list_url(base_url, self.list_id)
        return message_entry(url, self.index) if self.purpose == MESSAGE else status_entry(url, self.purpose, self.index)


def list_url(base_url: str, list_id: str) -> str:
    return f"{base_url}/status/{list_id}"


@dataclass(frozen=True)
class ListChange:
    """A status list re-signed with one entry changed, not yet stored: stored only if the list is still
    at `seen_version` (compare-and-set)."""

    list_id: str
    seen_version: int
    bits: bytes
    document: str
    digest: str
    value: int


# Retries of a contended compare-and-set: full jitter on an exponential backoff, so writers that
# collided do not collide again in lock step.
ATTEMPTS = 64
BACKOFF_BASE, BACKOFF_CAP = 0.002, 0.25


async def backoff(attempt: int) -> None:
    await asyncio.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt)))


def check_list_size(size: int) -> int:
    """Entries per list: a power of two of at least 8. Production uses LIST_SIZE (131,072, the spec's
    minimum for herd privacy); smaller lists exist for tests that force rollovers."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 8 or size & (size - 1):
        raise ValueError(f"a status list size must be a power of two of at least 8 entries, not {size!r}")
    return size


class StatusLists:
    """Allocation: at most one open list per institution and purpose; slots are reserved in short
    transactions of their own (`reserve`) and signed into credentials outside any transaction, so no lock
    is held while anything is signed. Status changes re-sign a list outside any lock and store it with a
    compare-and-set on its version."""

    def __init__(self, signer: Any, base_url: str, size: int = LIST_SIZE, uow: Callable | None = None) -> None:
        self._signer = signer
        self._base_url = base_url
        self._size = check_list_size(size)
        self._uow = uow

    async def reserve(self, institution: str, issuer_did: str, key, count: int, now: datetime,
                      purpose: str = REVOCATION) -> list[Allocation]:
        """`count` entries for credentials about to be signed, each taken in a short transaction that
        commits at once. A reservation whose credential is never stored (a failed or duplicate request)
        leaves its slot unused: it reads 0 (valid) and nobody holds it."""
        out: list[Allocation] = []
        for attempt in range(ATTEMPTS * 4):
            if len(out) == count:
                return out
            async with self._uow() as uow:
                repo = IssuanceRepository(uow.session)
                await repo.reservation_commit_without_flush()
                taken = await self._take(repo, institution, purpose, count - len(out))
                await uow.commit()
            if taken is None:  # no open list (none yet, or the last one just filled): open the next one
                values = await self._new_list(institution, issuer_did, purpose, key, now)  # signed outside
                async with self._uow() as uow:
                    await IssuanceRepository(uow.session).open_list_once(values)
                    await uow.commit()
            elif taken:
                out.extend(taken)
            else:
                await backoff(attempt)  # another reservation took the last slots first
        if len(out) == count:
            return out
        raise Conflict("status list allocation is contended; try again")

    async def allocate(self, repo: IssuanceRepository, institution: str, issuer_did: str, key, count: int,
                       now: datetime, purpose: str = REVOCATION) -> list[Allocation]:
        """Like `reserve`, inside the caller's transaction: the list row (and a list it opens) stays
        locked until the caller commits. Only for writes that must be one transaction with their list
        (tests that build legacy data); issuance uses `reserve`."""
        out: list[Allocation] = []
        for attempt in range(ATTEMPTS * 4):
            if len(out) == count:
                return out
            taken = await self._take(repo, institution, purpose, count - len(out))
            if taken is None:
                await repo.open_list_once(await self._new_list(institution, issuer_did, purpose, key, now))
            elif taken:
                out.extend(taken)
            else:
                await backoff(attempt)
        if len(out) == count:
            return out
        raise Conflict("status list allocation is contended; try again")

    @staticmethod
    async def _take(repo: IssuanceRepository, institution: str, purpose: str, wanted: int) -> list[Allocation] | None:
        """Up to `wanted` slots of the open list, mapped to pseudo-random indexes; None when there is no
        open list, [] when another transaction took the slots we saw (read again)."""
        found = await repo.open_status_list(institution, purpose)
        if found is None:
            return None
        first = await repo.reserve_slots(found.id, wanted)
        taken = wanted
        if first is None:  # fewer than `wanted` free: the rest of this list, then the next list
            first, taken = found.next_slot, found.size - found.next_slot
            if not await repo.claim_slots(found.id, first, taken):
                return []
        perm_key = bytes.fromhex(found.permutation_key)
        return [Allocation(found.id, permute(perm_key, slot, found.size), purpose) for slot in range(first, first + taken)]

    async def _new_list(self, institution: str, issuer_did: str, purpose: str, key, now: datetime) -> dict[str, Any]:
        """The row of a new, empty, signed list (not stored)."""
        list_id = uuid.uuid4().hex
        bits = Bitstring(self._size * width(purpose))  # `size` counts entries; each is width(purpose) bits
        text, digest = await self._sign(list_id, issuer_did, purpose, bits, key, now)
        return dict(id=list_id, institution=institution, purpose=purpose, size=self._size, next_slot=0,
                    permutation_key=secrets.token_hex(32), bits=bits.to_bytes(), document=text, digest=digest,
                    version=1, updated_at=now)

    async def _create(self, repo: IssuanceRepository, institution: str, issuer_did: str, purpose: str, key,
                      now: datetime) -> StatusListRow:
        """Open a list in the caller's transaction (tests building legacy data); the database refuses it
        when the institution already has an open list of that purpose."""
        row = StatusListRow(**await self._new_list(institution, issuer_did, purpose, key, now))
        repo.add(row)
        await repo.flush()
        return row

    async def prepare_change(self, repo: IssuanceRepository, list_id: str, index: int, issuer_did: str, key,
                             now: datetime, *, set_bits: int = 0, clear_bits: int = 0) -> ListChange | None:
        """The list re-signed with entry `index` set to value | set_bits & ~clear_bits (None when that
        changes nothing). Read and signed without a lock; `apply_change` stores it if nobody changed the
        list meanwhile."""
        row = await repo.status_list(list_id)
        size = width(row.purpose)
        bits = Bitstring(row.size * size, row.bits)
        old = bits.get_value(index, size)
        new = (old | set_bits) & ~clear_bits & ((1 << size) - 1)
        if new == old:
            return None
        bits.set_value(index, new, size)
        text, digest = await self._sign(row.id, issuer_did, row.purpose, bits, key, now)
        return ListChange(row.id, row.version, bits.to_bytes(), text, digest, new)

    @staticmethod
    async def apply_change(repo: IssuanceRepository, change: ListChange, now: datetime) -> bool:
        """Compare-and-set on the list's version: False when another change got there first."""
        return await repo.replace_list_document(change.list_id, change.seen_version, bits=change.bits,
                                                document=change.document, digest=change.digest, now=now)

    async def change_value(self, repo: IssuanceRepository, list_id: str, index: int, issuer_did: str, key,
                           now: datetime, *, set_bits: int = 0, clear_bits: int = 0) -> None:
        """`prepare_change` + `apply_change` inside the caller's transaction, re-read and retried with
        backoff while other changes to the same list win the compare-and-set: never overwrites them."""
        for attempt in range(ATTEMPTS):
            change = await self.prepare_change(repo, list_id, index, issuer_did, key, now,
                                               set_bits=set_bits, clear_bits=clear_bits)
            if change is None or await self.apply_change(repo, change, now):
                return
            await backoff(attempt)
        raise Conflict(f"status list {list_id} is changing too fast; try again")

    async def _sign(self, list_id: str, issuer_did: str, purpose: str, bits: Bitstring, key, now: datetime) -> tuple[str, str]:
        unsigned = list_credential(list_url(self._base_url, list_id), issuer_did, purpose, bits, now)
        signed = await self._signer.sign(unsigned, key, suite=LIST_SUITE, created=now)
        return serialise(signed)
