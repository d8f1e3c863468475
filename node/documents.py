"""Signed documents as stored: the exact bytes that were signed and their SHA-256.

Every publication (framework, readiness, later trust lists and agreements) is served from these bytes;
they are never re-serialised, so the digest doubles as the HTTP ETag. `SignedDocumentStore` is the one
store API for them: each kind keeps its own table (its own keys: mapping, assessment, ...) with the same
columns `credential_id`, `issuer`, `document` (bytes), `sha256`, `published_at`, and every read checks
the bytes against the digest written with them (a row changed behind the node's back is never served).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select

from node.errors import InvalidInput, PuenteError


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def serialise(document: dict[str, Any]) -> bytes:
    """The bytes stored and served for a signed document this node made (once; never re-serialised)."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


class StoredDocumentCorrupt(PuenteError):
    """The stored bytes no longer match the digest stored with them: refuse to serve or use them."""

    slug = "stored-document-corrupt"
    title = "Stored document corrupt"
    status = 500


class SignedDocumentRow(Protocol):
    credential_id: str
    issuer: str
    document: bytes
    sha256: str
    published_at: datetime


@dataclass(frozen=True)
class StoredDocument:
    body: bytes
    sha256: str
    new: bool = False  # signed by this call (False: an existing publication was returned)

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)

    @classmethod
    def of(cls, row: SignedDocumentRow, *, new: bool = False, **extra: Any):
        """The document in `row`, after checking its bytes against the stored digest (fail closed)."""
        body = bytes(row.document)
        if digest(body) != row.sha256:
            raise StoredDocumentCorrupt(f"the stored bytes of {row.credential_id} do not match their SHA-256; not served")
        return cls(body=body, sha256=row.sha256, new=new, **extra)


Row = TypeVar("Row", bound=SignedDocumentRow)


class SignedDocumentStore(Generic[Row]):
    """Reads and writes of one kind of signed document, inside the caller's unit of work (session)."""

    def __init__(self, table: type[Row]) -> None:
        self.table = table

    def add(self, session: Any, *, body: bytes, document_id: str, issuer: str, published_at: datetime,
            **keys: Any) -> Row:
        """Store `body` exactly as given (the bytes that were signed, or a peer's bytes verbatim)."""
        body = bytes(body)
        row = self.table(credential_id=document_id, issuer=issuer, document=body, sha256=digest(body),
                         published_at=published_at, **keys)
        session.add(row)
        return row

    async def one(self, session: Any, **where: Any) -> Row | None:
        return (await session.execute(select(self.table).filter_by(**where))).scalar_one_or_none()

    async def newest(self, session: Any, **where: Any) -> Row | None:
        table: Any = self.table
        return (await session.execute(
            select(table).filter_by(**where).order_by(table.published_at.desc(), table.id.desc()).limit(1)
        )).scalar_one_or_none()

    async def newest_per(self, session: Any, column: str) -> list[Row]:
        """The newest document for each value of `column` (e.g. each jurisdiction), ordered by that value."""
        table: Any = self.table
        rows = (await session.execute(
            select(table).order_by(getattr(table, column), table.published_at.desc(), table.id.desc())
        )).scalars()
        newest: dict[Any, Row] = {}
        for row in rows:
            newest.setdefault(getattr(row, column), row)
        return list(newest.values())


def jurisdiction_code(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; anything else is bad input."""
    code = str(value or "").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput(f"a jurisdiction is an ISO 3166-1 alpha-2 code such as GT or CO, not {value!r}")
    return code
