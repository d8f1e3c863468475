"""A pyld processor in "safe mode": JSON-LD processing that drops nothing (architecture rule 9).

JSON-LD expansion and RDF conversion silently drop what they cannot represent: undefined terms,
free-floating values, `@value: null`, nodes whose id is not an absolute IRI (every statement about
them), relative types. Dropped data is not in the canonical form, so it is not signed, yet it is in the
JSON that checks read. Like Digital Bazaar's jsonld.js `safe: true` mode (lib/events.js), this
processor turns each such drop into a typed error (`DroppedData`, `UndefinedTerm`).

Relative IRIs are kept relative (base `None`) instead of being resolved against pyld's made-up
`http://example.org/base/`, so they are seen and refused rather than silently invented.
"""

from __future__ import annotations

from typing import Any

from node.jsonld.errors import DroppedData, UndefinedTerm
from node.jsonld.processor import CachingJsonLdProcessor
from node.jsonld.terms import is_absolute_iri, is_node_id


def _refuse_undefined(expanded_property: str | None) -> None:
    raise UndefinedTerm(f"a property is not defined by the document's @context ({expanded_property or 'undefined term'}); it would be left unsigned")


class SafeJsonLdProcessor(CachingJsonLdProcessor):
    def __init__(self) -> None:
        super().__init__(on_property_dropped=_refuse_undefined)

    def expand(self, input_, options):
        options = {**(options or {}), "base": None}  # keep relative IRIs visible (see module docstring)
        expanded = super().expand(input_, options)
        check_expanded(expanded)
        return expanded

    def _expand(self, active_ctx, active_property, element, options, inside_list=False, inside_index=False,
                type_scoped_ctx=None):
        result = super()._expand(active_ctx, active_property, element, options, inside_list, inside_index,
                                 type_scoped_ctx)
        if result is None and element is not None:
            raise DroppedData(f"a value under {active_property or 'the top level'!r} makes no statement "
                              "(free-floating value, empty or id-only top-level object, null @value)")
        return result


def check_expanded(expanded: Any) -> None:
    """Refuse what RDF conversion would skip: relative or invalid ids, properties and types."""
    stack = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict) or "@value" in item:
            continue
        if "@list" in item or "@set" in item:
            stack.extend(item.get("@list", ()) or ())
            stack.extend(item.get("@set", ()) or ())
            continue
        node_id = item.get("@id")
        if node_id is not None and not is_node_id(node_id):
            raise DroppedData(f"id {node_id!r} is not an absolute IRI: every statement about it would be dropped")
        for type_ in item.get("@type", ()):
            if not is_node_id(type_):
                raise DroppedData(f"type {type_!r} is not an absolute IRI: it would be dropped")
        for key, value in item.items():
            if key == "@reverse" and isinstance(value, dict):
                for reverse_key, reverse_value in value.items():
                    _check_property(reverse_key)
                    stack.append(reverse_value)
            elif not key.startswith("@"):
                _check_property(key)
                stack.append(value)
            elif key in ("@graph", "@included"):
                stack.append(value)


def _check_property(iri: str) -> None:
    if not is_absolute_iri(iri) or iri.startswith("_:"):
        raise DroppedData(f"property {iri!r} is not an absolute IRI: its statements would be dropped")
