"""Files named on the command line: checked BEFORE a command does anything, written atomically.

A command that issues a credential and then cannot write it has already changed the node; so every
`--out` is checked first (a directory where a directory is expected, a file in an existing directory
where a file is expected) and every failure is a one-line `InvalidInput` naming the path, never an
OSError traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from node.errors import InvalidInput


def output_dir(value: str | os.PathLike) -> Path:
    """A directory to write into: created (with parents) when missing; an existing file there is an error."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"--out {path} is a file, not a directory: give a directory to write into")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create directory {path}: {_reason(exc)}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InvalidInput(f"cannot write into directory {path}: permission denied")
    return path


def output_file(value: str | os.PathLike) -> Path:
    """A file to (over)write: its directory must exist; a directory at the path itself is an error."""
    path = Path(value)
    if path.is_dir():
        raise InvalidInput(f"--out {path} is a directory: give a file name, e.g. {path / 'credential.pdf'}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise InvalidInput(f"cannot write {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise InvalidInput(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidInput(f"cannot write {path}: permission denied")
    return path


def write_atomically(path: Path, data: bytes) -> Path:
    """Write via a temporary file beside the target, so an interrupted run never leaves a truncated file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {_reason(exc)}") from None
    return path


def describe_os_error(exc: OSError) -> str:
    """One line for an OSError the commands did not anticipate: what failed, on which path."""
    names = " -> ".join(str(n) for n in (exc.filename, exc.filename2) if n is not None)
    return f"{_reason(exc)}: {names}" if names else _reason(exc)


def _reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else (str(exc) or type(exc).__name__)
