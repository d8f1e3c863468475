"""Request bodies in, documents out.

`read_json` is the only way handlers read a body. `document_response` answers public documents
(DID documents, signed credentials, lists) with a strong ETag over the exact bytes, so peers can
poll with If-None-Match and get 304 when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from node import jsonio
from node.errors import InvalidInput
from node.jsonio import TooLarge

# A signed document (credential, publication, readiness assessment) is a few KB; 1 MiB leaves room for
# large frameworks while keeping what an anonymous client can make the node parse small.
PUBLIC_BODY_BYTES = 1024 * 1024
# Batches, imports and evidence uploads (the app's client_max_size is the same number).
LARGE_BODY_BYTES = 32 * 1024 * 1024


async def read_json(request: web.Request, *, max_bytes: int = PUBLIC_BODY_BYTES) -> Any:
    """The body as JSON, within `max_bytes` (413 past it, without reading the rest) and the shared JSON
    rules of node.jsonio (depth, NaN/Infinity, out-of-range numbers, NUL): all InvalidInput, never a 500.
    The default cap suits documents; routes taking files (batches, imports, evidence) pass a larger one."""
    content_type = request.content_type or ""
    if not (content_type == "application/json" or content_type.endswith("+json")):
        raise InvalidInput(f"expected a JSON body (Content-Type: application/json), got {content_type or 'none'!r}")
    if request.content_length is not None and request.content_length > max_bytes:
        raise TooLarge(f"the request body is larger than {_size(max_bytes)}")
    raw = bytearray()
    while chunk := await request.content.read(64 * 1024):
        raw += chunk
        if len(raw) > max_bytes:  # chunked bodies carry no Content-Length: count as we read
            raise TooLarge(f"the request body is larger than {_size(max_bytes)}")
    if not raw:
        raise InvalidInput("the request body is empty; expected JSON")
    return jsonio.loads(bytes(raw), max_bytes=max_bytes, what="the request body")


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def document_response(request: web.Request, body: bytes | dict | list, *, max_age: int = 300,
                      content_type: str = "application/json", status: int = 200) -> web.Response:
    """Serve `body` (exact bytes, or a JSON value serialised once here) with ETag and Cache-Control."""
    data = body if isinstance(body, (bytes, bytearray)) else json_bytes(body)
    etag = etag_of(bytes(data))
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={int(max_age)}"}
    if _matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(status=status, body=bytes(data), content_type=content_type, charset=None, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison, `*` matches any current representation."""
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)
