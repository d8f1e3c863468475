"""An offline JSON-LD document loader over the contexts bundled in `contexts/`.

`contexts/index.json` maps each context URL, exactly as written in `@context`, to its file. Documents
are returned with `tag: "static"` so pyld caches each processed context once per process; an unknown
URL is an error (`UnknownContext`), never a network fetch.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from node.errors import UnknownContext

_PACKAGE = "node.jsonld"


@lru_cache(maxsize=1)
def context_index() -> dict[str, str]:
    return json.loads(resources.files(_PACKAGE).joinpath("contexts/index.json").read_text())


@lru_cache(maxsize=None)
def _context_document(url: str) -> dict[str, Any]:
    return json.loads(resources.files(_PACKAGE).joinpath("contexts", context_index()[url]).read_text())


def known_context(url: str) -> bool:
    return url in context_index()


def get_context(url: str) -> dict[str, Any]:
    """The bundled context document for `url`; raises UnknownContext for anything else."""
    if not isinstance(url, str) or url not in context_index():
        raise UnknownContext(f"unknown JSON-LD context: {url!r} (only bundled contexts are used)", url=str(url))
    return copy.deepcopy(_context_document(url))  # pyld mutates what it is given


def document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    """pyld DocumentLoader callable."""
    return {"contextUrl": None, "documentUrl": url, "document": get_context(url), "tag": "static"}


def check_contexts(document: Any) -> None:
    """Fail early, with the offending URL, on any @context URL we do not bundle (top level and nested)."""
    for url in _context_urls(document):
        if not known_context(url):
            raise UnknownContext(f"unknown JSON-LD context: {url!r} (only bundled contexts are used)", url=url)


def _context_urls(value: Any):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                for ctx in item if isinstance(item, list) else [item]:
                    if isinstance(ctx, str):
                        yield ctx
                    elif isinstance(ctx, dict):
                        yield from _context_urls(ctx)
            else:
                yield from _context_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _context_urls(item)
