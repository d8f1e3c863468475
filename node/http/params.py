"""Checked URL input: one place that turns path and query text into values the database can hold.

A NUL byte or another control character in a path or query (`/credentials/%00`) is refused by
`input_guard_middleware` before any handler runs: PostgreSQL refuses NUL in text and would answer with
a 500. Integers from the URL go through `parse_int`, so `/…/99999999999999999999` is a 400, not an
overflow deep in a driver (asyncpg and SQLite fail differently, both as 500s).
"""

from __future__ import annotations

import re

from aiohttp import web

from node.errors import InvalidInput

INT32_MAX = 2**31 - 1  # an Integer column
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_int(value: str | None, what: str, *, minimum: int = 0, maximum: int = INT32_MAX) -> int | None:
    """A whole number from URL text, within [minimum, maximum]; None stays None."""
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise InvalidInput(f"{what} must be a whole number between {minimum} and {maximum}")
    number = int(value)
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{what} must be a whole number between {minimum} and {maximum}")
    return number


@web.middleware
async def input_guard_middleware(request: web.Request, handler) -> web.StreamResponse:
    # The message names the part, never echoes the value (it may be personal data).
    if _CONTROL.search(request.path):
        raise InvalidInput("the URL path contains a control character (such as NUL)")
    for key, value in request.query.items():
        if _CONTROL.search(key) or _CONTROL.search(value):
            raise InvalidInput("the query string contains a control character (such as NUL)")
    return await handler(request)
