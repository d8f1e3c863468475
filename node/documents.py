"""Signed documents as stored: the exact bytes that were signed and their SHA-256.

Every publication (framework, readiness, later trust lists and agreements) is served from these bytes;
they are never re-serialised, so the digest doubles as the HTTP ETag.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from node.errors import InvalidInput


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class StoredDocument:
    body: bytes
    sha256: str
    new: bool = False  # signed by this call (False: an existing publication was returned)

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)


def jurisdiction_code(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; anything else is bad input."""
    code = str(value or "").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput(f"a jurisdiction is an ISO 3166-1 alpha-2 code such as GT or CO, not {value!r}")
    return code
