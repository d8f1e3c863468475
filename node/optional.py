"""Importing capability modules that may not exist yet (a capability not built, or not installed)."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(name: str) -> ModuleType | None:
    """The module, or None when it (or its package, e.g. `node.framework`) does not exist.

    A module that exists but fails to import something else still raises: that is a real error.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise
