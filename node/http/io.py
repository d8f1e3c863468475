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

from node.errors import InvalidInput


async def read_json(request: web.Request) -> Any:
    content_type = request.content_type or ""
    if not (content_type == "application/json" or content_type.endswith("+json")):
        raise InvalidInput(f"expected a JSON body (Content-Type: application/json), got {content_type or 'none'!r}")
    raw = await request.read()
    if not raw:
        raise InvalidInput("the request body is empty; expected JSON")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise InvalidInput("the request body is not UTF-8") from None
    except ValueError as exc:
        raise InvalidInput(f"the request body is not valid JSON: {exc}") from None


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
