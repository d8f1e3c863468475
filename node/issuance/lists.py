"""Status lists in storage: allocating entries for new credentials and re-signing a list on change."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


class StatusLists:
    def __init__(self, signer: Any, base_url: str, size: int = LIST_SIZE) -> None:
        self._signer = signer
        self._base_url = base_url
        self._size = size

    async def allocate(self, repo: IssuanceRepository, institution: str, issuer_did: str, key, count: int,
                       now: datetime, purpose: str = REVOCATION) -> list[Allocation]:
        """`count` fresh entries in the institution's open list of `purpose`; a full list is closed and a
        new one opened. Each purpose has lists of its own, so one status change flips one bit."""
        out: list[Allocation] = []
        attempts = 0
        while len(out) < count:
            row = await repo.open_status_list(institution, purpose)
            if row is None:
                row = await self._create(repo, institution, issuer_did, purpose, key, now)
            seen = row.next_slot
            take = min(count - len(out), row.size - seen)
            if not await repo.claim_slots(row.id, seen, take):
                attempts += 1  # another transaction took these slots first: read the counter again
                if attempts > 50:
                    raise Conflict("status list allocation is contended; try again")
                continue
            perm_key = bytes.fromhex(row.permutation_key)
            out.extend(Allocation(row.id, permute(perm_key, slot, row.size), purpose) for slot in range(seen, seen + take))
        return out

    async def _create(self, repo: IssuanceRepository, institution: str, issuer_did: str, purpose: str, key,
                      now: datetime) -> StatusListRow:
        list_id = uuid.uuid4().hex
        bits = Bitstring(self._size * width(purpose))  # `size` counts entries; each is width(purpose) bits
        text, digest = await self._sign(list_id, issuer_did, purpose, bits, key, now)
        row = StatusListRow(
            id=list_id, institution=institution, purpose=purpose, size=self._size, next_slot=0,
            permutation_key=secrets.token_hex(32), bits=bits.to_bytes(), document=text, digest=digest,
            version=1, updated_at=now,
        )
        repo.add(row)
        await repo.flush()
        return row

    async def change_value(self, repo: IssuanceRepository, list_id: str, index: int, issuer_did: str, key,
                           now: datetime, *, set_bits: int = 0, clear_bits: int = 0) -> int:
        """Set and clear bits of one entry (value = value | set_bits & ~clear_bits) and re-sign the list,
        so the next fetch by any verifier sees the change; answers the new value. The write is a
        compare-and-set on the list's version: a concurrent change to another entry of the same list
        makes us re-read and re-apply, never overwrite it."""
        for _attempt in range(50):
            row = await repo.status_list(list_id, for_update=True)
            size = width(row.purpose)
            bits = Bitstring(row.size * size, row.bits)
            old = bits.get_value(index, size)
            new = (old | set_bits) & ~clear_bits & ((1 << size) - 1)
            if new == old:
                return old
            bits.set_value(index, new, size)
            text, digest = await self._sign(row.id, issuer_did, row.purpose, bits, key, now)
            if await repo.replace_list_document(row.id, row.version, bits=bits.to_bytes(), document=text, digest=digest, now=now):
                return new
        raise Conflict(f"status list {list_id} is changing too fast; try again")

    async def set_bit(self, repo: IssuanceRepository, list_id: str, index: int, value: bool, issuer_did: str, key,
                      now: datetime) -> None:
        """Set or clear one entry of a 1-bit list ("revocation" or "suspension")."""
        await self.change_value(repo, list_id, index, issuer_did, key, now,
                                set_bits=1 if value else 0, clear_bits=0 if value else 1)

    async def _sign(self, list_id: str, issuer_did: str, purpose: str, bits: Bitstring, key, now: datetime) -> tuple[str, str]:
        unsigned = list_credential(list_url(self._base_url, list_id), issuer_did, purpose, bits, now)
        signed = await self._signer.sign(unsigned, key, suite=LIST_SUITE, created=now)
        return serialise(signed)
