"""A pyld processor that reuses processed JSON-LD contexts across documents.

pyld caches a processed context per *parent active context*, keyed by the parent's random `_uuid`.
Type-scoped contexts (all over OB 3.0) are non-propagating, so pyld clones the parent with a fresh
`_uuid` every time and the cache never hits: each credential re-processes the same scoped contexts.
We memoise `_process_context` on (parent context object, local context object, flags). Processed
contexts are frozen, and both objects are kept alive by the memo entry, so identity is a sound key.
Equality with stock pyld is pinned by tests over every conformance document and our own shapes.
"""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld

_MEMO: LRUCache = LRUCache(maxsize=4096)


class CachingJsonLdProcessor(jsonld.JsonLdProcessor):
    def _process_context(self, active_ctx, local_ctx, options, override_protected=False, propagate=True,
                         validate_scoped=True, cycles=None):
        key = _memo_key(active_ctx, local_ctx, options, override_protected, propagate, validate_scoped)
        if key is not None:
            hit = _MEMO.get(key)
            if hit is not None and hit[0] is active_ctx and (hit[1] is local_ctx or hit[1] == local_ctx):
                return hit[2]
        result = super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                          validate_scoped, cycles)
        if key is not None and isinstance(result, frozendict):
            _MEMO[key] = (active_ctx, local_ctx, result)
        return result


def _memo_key(active_ctx: Any, local_ctx: Any, options: dict, *flags: Any) -> tuple | None:
    if not isinstance(active_ctx, frozendict) or "_uuid" not in active_ctx:
        return None  # a mutable active context may still change: never memoise against it
    if isinstance(local_ctx, str):
        local_key: Any = local_ctx
    elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
        local_key = tuple(local_ctx)
    elif isinstance(local_ctx, (dict, frozendict, list)):
        local_key = id(local_ctx)  # identity checked on hit; the memo entry keeps the object alive
    else:
        return None
    return (id(active_ctx), local_key, options.get("base"), options.get("processingMode"), *flags)
