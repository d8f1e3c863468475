"""Response headers that keep what the node serves from being run as something else.

Every response carries `X-Content-Type-Options: nosniff`, so a browser never guesses "HTML" from bytes
the node labelled otherwise. Uploaded files (RPL evidence) are the dangerous case: their bytes and
their media type come from whoever uploaded them, so they are served as downloads
(`Content-Disposition: attachment`), under a media type from a short list of passive formats (anything
else becomes application/octet-stream), in a sandbox that runs nothing even if opened in a tab.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

NOSNIFF = {"X-Content-Type-Options": "nosniff"}

# Formats a browser displays passively. Never text/html, SVG (scripts), XML (XSLT) or anything unknown.
PASSIVE_MEDIA_TYPES = frozenset({
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv",
    "application/json", "audio/mpeg", "audio/ogg", "video/mp4", "video/webm", "application/zip",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
})
OCTET_STREAM = "application/octet-stream"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: runs for every response, problems and 304s included."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


def safe_media_type(media_type: str | None) -> str:
    base = (media_type or "").split(";")[0].strip().lower()
    return base if base in PASSIVE_MEDIA_TYPES else OCTET_STREAM


def content_disposition(name: str | None, fallback: str = "download") -> str:
    """RFC 6266 attachment with an ASCII filename and the exact name as filename* (RFC 8187)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or fallback
    name = "".join(c for c in name if c.isprintable())[:200] or fallback
    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", name).strip() or fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(body: bytes, *, media_type: str | None, name: str | None,
                        headers: dict[str, str] | None = None) -> web.Response:
    """A file someone uploaded, served so that no browser renders or runs it on this node's origin."""
    response = web.Response(body=body, headers={
        **(headers or {}),
        "Content-Disposition": content_disposition(name),
        "Content-Security-Policy": "default-src 'none'; sandbox",
        **NOSNIFF,
    })
    response.content_type = safe_media_type(media_type)
    return response
