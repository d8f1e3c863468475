"""The one JSON reader for everything that comes from outside: HTTP bodies, CLI files, templates, imports.

`json.loads` alone accepts NaN and Infinity (not JSON, and they break canonicalization), turns `1e400`
into infinity, builds integers no database column holds, keeps NUL characters PostgreSQL refuses, and
recurses until a raw RecursionError on deep input. `loads` refuses all of that with one `InvalidInput`:
size first (nothing is read past the cap), then nesting depth with a cheap scan before the parser
recurses, then the values themselves.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from node.errors import InvalidInput

MAX_DEPTH = 64  # an Open Badges 3.0 credential is about 8 deep; imports and batches less
MAX_FILE_BYTES = 64 * 1024 * 1024
INT_RANGE = (-(2**63), 2**63 - 1)  # what a BIGINT column (and every JSON peer we talk to) can hold

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


_WALKED = (dict, list, str)


class TooLarge(InvalidInput):
    slug = "too-large"
    title = "Input too large"
    status = 413


class _Refused(Exception):
    """Raised inside the parser's hooks; turned into InvalidInput by loads."""


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_FILE_BYTES, what: str = "the input") -> Any:
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise TooLarge(f"{what} is larger than {_size(max_bytes)}")
    if _deeper_than(raw, max_depth):
        raise InvalidInput(f"{what} is nested more than {max_depth} levels deep")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not UTF-8 text") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except _Refused as exc:
        raise InvalidInput(f"{what} is not acceptable JSON: {exc}") from None
    except RecursionError:  # belt and braces: the scan above should have stopped it
        raise InvalidInput(f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {_describe(exc)}") from None
    if b"\\u0000" in raw:
        # Only then can a string hold NUL (raw control characters are not valid JSON); the depth was
        # settled exactly by the scan above. Keeps big batch bodies cheap.
        _check_values(value, max_depth, what)
    return value


def load_file(path: str | Path, *, what: str | None = None, max_bytes: int = MAX_FILE_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a JSON file; a missing, unreadable or oversized file is InvalidInput, never a traceback."""
    what = what or str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)  # never more than the cap, whatever the file's size
    except IsADirectoryError:
        raise InvalidInput(f"cannot read {what}: it is a directory") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {what}: {exc.strerror or exc}") from None
    return loads(raw, max_depth=max_depth, max_bytes=max_bytes, what=what)


def _deeper_than(raw: bytes, max_depth: int) -> bool:
    """Nesting depth of the brackets outside strings, without recursion: strip strings, keep brackets,
    then peel innermost `[]`/`{}` pairs one level per pass (at most max_depth passes)."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    # Escapes out first (so every remaining quote delimits a string), then only quotes and brackets,
    # then drop what sits between quotes: bytes operations in C, no per-character Python.
    structure = (_ESCAPE.sub(b"", raw) if b"\\" in raw else raw).translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    brackets = b"".join(structure.split(b'"')[::2]) if b'"' in structure else structure
    for _ in range(max_depth):
        peeled = _EMPTY_PAIR.sub(b"", brackets)
        if not peeled or len(peeled) == len(brackets):  # done, or malformed (the parser will say so)
            return False
        brackets = peeled
    return True


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text) < 19:  # |n| < 10**18: always in range
        return int(text)
    if len(text) > 20:
        raise _Refused(f"the integer {text[:20]}... is out of range")
    value = int(text)
    if not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise _Refused(f"the integer {text} is out of range")
    return value


def _check_values(value: Any, max_depth: int, what: str) -> None:
    """One iterative pass: exact depth and no NUL character in any key or string."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidInput(f"{what} contains a NUL character")
            continue
        if depth > max_depth:
            raise InvalidInput(f"{what} is nested more than {max_depth} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise InvalidInput(f"{what} contains a NUL character")
                if isinstance(child, _WALKED):
                    stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if isinstance(child, _WALKED))


def _describe(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)[:200]


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"
