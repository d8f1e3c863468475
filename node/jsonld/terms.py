"""Refuse documents whose JSON keys are not the terms their contexts define (architecture rule 9).

A Data Integrity proof covers what the canonical form covers: the RDF graph (eddsa-rdfc-2022) or the
JSON text (eddsa-jcs-2022). The node's checks (status, validity, issuer, types) read JSON keys. If a
document may spell `credentialStatus` as `https://www.w3.org/2018/credentials#credentialStatus`, as
`cred:credentialStatus`, through an alias term or behind `@graph`/`@included`, the graph is unchanged,
the proof still holds, and a check that reads `credentialStatus` sees nothing. So every document is
signed and verified in exactly one spelling: the terms its contexts define.

`check_document(doc)` walks the JSON with the active context, as JSON-LD expansion does (embedded,
property-scoped and type-scoped contexts, reverting non-propagated ones), and refuses:

* keys that are not terms: full or compact IRIs, blank-node keys (`NoncanonicalTerm`);
* keywords written directly where the context aliases them (`@type` where `type` is defined), and
  structural keywords that move data out of the JSON shape checks read: `@graph`, `@included`,
  `@reverse`, `@nest`, `@index` (`NoncanonicalTerm`); terms aliasing any keyword but `@id`/`@type`;
* a term the document defines (or a key or type that is no term) whose IRI another term names (an alias);
* an embedded context that redefines a term to another IRI, or sets `@base`;
* keys no context defines (`UndefinedTerm`): JSON-LD would drop them, leaving them unsigned;
* ids and types that would not become RDF: relative or invalid IRIs, undefined types (`DroppedData`).

The same rules hold for both cryptosuites, so a jcs document (never expanded when signed) is held to
what an rdfc one is. It is pure dict walking over pyld's processed contexts, which the memoising
processor (processor.py) and a per-context summary below make cheap after the first document.
"""

from __future__ import annotations

import re
from typing import Any

from pyld import jsonld

from node.errors import UnknownContext
from node.jsonld.errors import ContextProcessingFailed, DroppedData, NoncanonicalTerm, UndefinedTerm, cause_of
from node.jsonld.loader import document_loader
from node.jsonld.processor import CachingJsonLdProcessor

# Absolute IRI (RFC 3987 shape: a scheme, then no character an IRI may not contain) or blank node id.
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x20\x7f]*$")
_BLANK_NODE = re.compile(r"^_:[^\s<>\"{}|\\^`\x00-\x20\x7f]+$")
_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")

# Keywords a document may write directly. `@id`/`@type` only where the context defines no alias.
_DIRECT_KEYWORDS = frozenset({"@context", "@value", "@language", "@direction", "@list", "@set", "@id", "@type", "@json"})
# Keywords a term may alias (the bundled contexts alias exactly these, as `id` and `type`).
_ALIASABLE = frozenset({"@id", "@type"})
# Containers whose map keys are data, not terms; bundled contexts use none of these but @language.
_MAP_CONTAINERS = frozenset({"@index", "@id", "@type"})

_OPTIONS: dict[str, Any] = {
    "documentLoader": document_loader,
    "contextResolver": jsonld.ContextResolver(jsonld._resolved_context_cache, document_loader),
    "processingMode": "json-ld-1.1",
    "base": None,
    "isFrame": False,
    "keepFreeFloatingNodes": False,
    "extractAllScripts": False,
}
_PROCESSOR = CachingJsonLdProcessor()


def is_absolute_iri(value: Any) -> bool:
    return isinstance(value, str) and bool(_ABSOLUTE_IRI.match(value))


def is_node_id(value: Any) -> bool:
    """An id that becomes an RDF node: an absolute IRI or a blank node identifier."""
    return isinstance(value, str) and bool(_ABSOLUTE_IRI.match(value) or _BLANK_NODE.match(value))


def check_document(document: Any) -> None:
    """Raise a typed UnsafeDocument (with the JSON path) unless every key is a canonical term."""
    if not isinstance(document, dict):
        return
    try:
        _Walker().node_or_value(_initial_context(), None, document, ROOT, None)
    except RecursionError:  # callers bound depth first (crypto/bounded_canon.py); never a traceback anyway
        raise ContextProcessingFailed("the document is nested too deeply to check its terms") from None


# A JSON path is built only when something is refused: (parent, key-or-index) pairs until then.
ROOT: tuple = ()


def render(path: tuple) -> str:
    parts = []
    while path:
        path, part = path
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "$" + "".join(reversed(parts))


class _Facts:
    """What the walker needs from one processed active context, computed once per context.

    `keys` caches the verdict on each key (its expansion and term mapping) and `derived` the contexts
    reached from this one (scoped contexts), so a second document with the same contexts is plain
    dictionary look-ups.
    """

    __slots__ = ("ctx", "by_iri", "keyword_aliases", "prefixes", "keys", "derived", "type_keys", "value_keys",
                 "child", "typed", "terms")

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx  # keeps the context alive while the entry (keyed by its id) exists
        self.by_iri: dict[str, list[str]] = {}
        self.keyword_aliases: dict[str, list[str]] = {}
        self.prefixes: set[str] = set()
        self.keys: dict[str, tuple[str, Any, Any]] = {}
        self.derived: dict[Any, tuple[Any, Any]] = {}
        self.child: dict[Any, Any] = {}  # active property -> context inside an ordinary object value
        self.typed: dict[Any, tuple[Any, Any]] = {}  # (type key, types, in value) -> (context before, after)
        self.terms: dict[str, Any] = {}  # property -> its term-scoped context
        for term, mapping in ctx["mappings"].items():
            if not mapping:
                continue
            iri = mapping.get("@id")
            if not isinstance(iri, str):
                continue
            if iri.startswith("@"):
                self.keyword_aliases.setdefault(iri, []).append(term)
            else:
                self.by_iri.setdefault(iri, []).append(term)
            if mapping.get("_prefix"):
                self.prefixes.add(term)
        self.type_keys = frozenset(["@type", *self.keyword_aliases.get("@type", ())])
        self.value_keys = frozenset(["@value", *self.keyword_aliases.get("@value", ())])


_FACTS: dict[int, _Facts] = {}


def _facts(ctx: Any) -> _Facts:
    hit = _FACTS.get(id(ctx))
    if hit is not None and hit.ctx is ctx:
        return hit
    if len(_FACTS) >= 4096:
        _FACTS.clear()
    facts = _FACTS[id(ctx)] = _Facts(ctx)
    return facts


_INITIAL: list[Any] = []


def _initial_context() -> Any:
    if not _INITIAL:
        _INITIAL.append(_PROCESSOR._get_initial_context(_OPTIONS))
    return _INITIAL[0]


def _mapping(ctx: Any, term: Any) -> Any:
    return ctx["mappings"].get(term) if isinstance(term, str) else None


_EMPTY: dict = {}


class _Walker:
    def __init__(self) -> None:
        self.embedded: set[int] = set()  # ids of context objects written in this document
        self.embedded_terms: set[str] = set()  # names those contexts define (at any depth)

    # -- contexts --------------------------------------------------------------------------------

    def process(self, ctx: Any, local: Any, path: tuple, **flags: Any) -> Any:
        try:
            return _PROCESSOR._process_context(ctx, local, dict(_OPTIONS), **flags)
        except jsonld.JsonLdError as exc:
            unknown = cause_of(exc, UnknownContext)
            if unknown is not None:
                raise unknown from None
            raise ContextProcessingFailed(f"the JSON-LD context cannot be processed: {_first_line(exc)}", render(path)) from None
        except KeyError as exc:  # pyld crashes clearing a default nobody set, e.g. {"@vocab": null}
            raise ContextProcessingFailed(f"the JSON-LD context cannot be processed: it sets {exc.args[0]} to null "
                                          "where no context set it", render(path)) from None
        except (TypeError, ValueError, AttributeError) as exc:  # other pyld crashes: typed, never a traceback
            raise ContextProcessingFailed(f"the JSON-LD context cannot be processed ({type(exc).__name__}: {exc})", render(path)) from None

    def embedded_context(self, ctx: Any, local: Any, path: tuple) -> Any:
        urls = (local,) if isinstance(local, str) else tuple(local) if isinstance(local, list) and all(isinstance(u, str) for u in local) else None
        if urls is not None:  # the usual case, bundled contexts by URL: one look-up per context list
            derived = _facts(ctx).derived
            hit = derived.get(urls)
            if hit is None:
                hit = derived[urls] = (None, self.process(ctx, local, path))
            return hit[1]
        locals_ = local if isinstance(local, list) else [local]
        for index, item in enumerate(locals_):
            if isinstance(item, dict):
                self._remember(item)
                if "@base" in item:
                    where = (path, index) if isinstance(local, list) else path
                    raise NoncanonicalTerm("an embedded context may not set @base (ids would differ from their JSON)", render((where, "@base")))
        new = self.process(ctx, local, path)
        self._no_redefinition(ctx, new, locals_, path)
        return new

    def scoped(self, ctx: Any, local: Any, path: tuple, **flags: Any) -> Any:
        """A scoped context reached from `ctx` (property- or type-scoped), cached per context."""
        if id(local) in self.embedded:  # a scoped context the document itself wrote
            new = self.process(ctx, local, path, **flags)
            self._no_redefinition(ctx, new, local if isinstance(local, list) else [local], path)
            return new
        derived = _facts(ctx).derived
        key = (id(local), *sorted(flags.items()))
        hit = derived.get(key)
        if hit is not None and hit[0] is local:
            return hit[1]
        new = self.process(ctx, local, path, **flags)
        derived[key] = (local, new)
        return new

    def _remember(self, value: Any) -> None:
        if isinstance(value, dict):
            self.embedded.add(id(value))
            self.embedded_terms.update(key for key in value if not key.startswith("@"))
            for item in value.values():
                self._remember(item)
        elif isinstance(value, list):
            self.embedded.add(id(value))
            for item in value:
                self._remember(item)

    @staticmethod
    def _no_redefinition(old_ctx: Any, new_ctx: Any, locals_: list, path: tuple) -> None:
        for item in locals_:
            if not isinstance(item, dict):
                continue
            for term in item:
                if term.startswith("@"):
                    continue
                old = _mapping(old_ctx, term)
                if old is None:
                    continue
                new = _mapping(new_ctx, term)
                if new is None or new.get("@id") != old.get("@id") or new.get("reverse") != old.get("reverse"):
                    raise NoncanonicalTerm(f"the embedded context redefines {term!r} (was {old.get('@id')})", render((path, term)))

    # -- nodes -----------------------------------------------------------------------------------

    def node_or_value(self, ctx: Any, active_property: str | None, element: dict, path: tuple, type_scoped: Any) -> None:
        """Mirror of pyld `_expand` for an object: find its active context, then check each key."""
        if len(element) > 2 and type_scoped is None and "@context" not in element and not self.embedded:
            # the usual object: its context depends only on the parent's and the property (cached)
            child = _facts(ctx).child
            type_facts = child.get(active_property)
            if type_facts is None:
                type_facts = child[active_property] = _facts(self.enter(ctx, active_property, element, path, type_scoped))
            ctx = type_facts.ctx
        else:
            ctx = self.enter(ctx, active_property, element, path, type_scoped)
            type_facts = _facts(ctx)

        type_ctx = ctx  # types are looked up in the context from before type-scoped contexts
        type_keys = type_facts.type_keys
        facts = type_facts
        present = [key for key in type_keys if key in element]  # ("type", "@type"): cheaper than every key
        for key in sorted(present) if len(present) > 1 else present:
            value = element[key]
            in_value = not type_facts.value_keys.isdisjoint(element)
            cache_key = None
            if not self.embedded and isinstance(value, (str, list)):
                cache_key = (key, value if isinstance(value, str) else tuple(value), in_value)
                try:
                    typed = type_facts.typed.get(cache_key)
                except TypeError:  # not a list of strings: no cache
                    typed = cache_key = None
            else:
                typed = None
            if typed is None or typed[0] is not ctx:
                before = ctx
                ctx = self.typed(ctx, type_ctx, key, value, path, in_value)
                facts = _facts(ctx)
                if cache_key is not None:
                    type_facts.typed[cache_key] = (before, facts)
            else:
                facts = typed[1]
                ctx = facts.ctx

        # keys are read in the type-scoped context (`facts`), as pyld expands them
        cached = facts.keys if not self.embedded_terms else _EMPTY
        for key, value in element.items():
            if key == "@context":
                continue
            expanded, mapping, coercion = cached.get(key) or self.key(ctx, facts, key, (path, key))
            if expanded[0] != "@":  # a property: most values are plain literals, checked right here
                if isinstance(value, str):
                    if coercion is not None:
                        if "@context" in mapping:  # the value is read in the term's scoped context
                            self.property(ctx, key, mapping, value, (path, key))
                        else:
                            self.scalar(ctx, coercion, value, (path, key), facts)
                elif isinstance(value, (dict, list)):
                    self.property(ctx, key, mapping or _EMPTY, value, (path, key))
            elif expanded == "@type":
                if key not in type_keys:  # a type key only the type-scoped context defines
                    self.types(ctx, value, (path, key), not facts.value_keys.isdisjoint(element))
            elif expanded == "@id":
                if not is_node_id(value):
                    raise DroppedData(f"id {value!r} is not an absolute IRI: JSON-LD would drop every statement about this node", render((path, key)))
                self.no_compact(facts, value, (path, key))
            elif expanded == "@value":
                if value is None:
                    raise DroppedData("a null @value makes no statement", render((path, key)))
            elif expanded in ("@list", "@set"):
                self.value(ctx, active_property, value, (path, key))

    def enter(self, ctx: Any, active_property: str | None, element: dict, path: tuple, type_scoped: Any) -> Any:
        """The active context inside `element`: revert a non-propagated context, apply the property-
        scoped and the embedded context (pyld `_expand`, before `_prepare_nested_context`'s types)."""
        property_scoped = (_mapping(ctx, active_property) or _EMPTY).get("@context")
        if type_scoped is None and ctx.get("previousContext"):
            type_scoped = ctx
        must_revert = True
        if type_scoped is not None and len(element) <= 2 and "@context" not in element:
            for key in sorted(element):
                expanded = _expand_key(type_scoped, key)
                if expanded == "@value":
                    must_revert = False
                    ctx = type_scoped
                    break
                if expanded == "@id" and len(element) == 1:
                    must_revert = False
                    break
        if must_revert and "previousContext" in ctx:
            ctx = ctx["previousContext"]
        if property_scoped is not None:
            ctx = self.scoped(ctx, property_scoped, path, override_protected=True)
        if "@context" in element:
            ctx = self.embedded_context(ctx, element["@context"], (path, "@context"))
        return ctx

    def typed(self, ctx: Any, type_ctx: Any, key: str, value: Any, path: tuple, in_value: bool) -> Any:
        """Check the types under `key` (first: a respelled type would also hide its type-scoped
        terms) and apply their type-scoped contexts, in sorted order as pyld does."""
        self.types(type_ctx, value, (path, key), in_value)
        values = value if isinstance(value, list) else [value]
        for type_ in sorted(t for t in values if isinstance(t, str)):
            scoped = (_mapping(type_ctx, type_) or _EMPTY).get("@context")
            if scoped is not None and scoped is not False:
                ctx = self.scoped(ctx, scoped, (path, key), propagate=False)
        return ctx

    def property(self, ctx: Any, key: str, mapping: Any, value: Any, path: tuple) -> None:
        """Mirror of pyld `_expand_object` for one property: its scoped context, container, values."""
        if value is None:
            return
        term_ctx = ctx
        scoped = mapping.get("@context")
        if scoped is not None:
            terms = _facts(ctx).terms if not self.embedded else {}
            term_ctx = terms.get(key)
            if term_ctx is None:
                term_ctx = terms[key] = self.scoped(ctx, scoped, path, propagate=True, override_protected=True)
        containers = mapping.get("@container")
        if containers and isinstance(value, dict):
            containers = containers if isinstance(containers, list) else [containers]
            if "@language" in containers:
                return  # a language map: keys are language tags, values strings
            if _MAP_CONTAINERS.intersection(containers):
                raise NoncanonicalTerm(f"{key!r} is an index/id/type map: its keys would not be read as data", render(path))
        coercion = mapping.get("@type")
        if coercion == "@json":
            return  # a JSON literal: signed as one canonical JSON string
        if isinstance(value, dict):
            self.node_or_value(term_ctx, key, value, path, None)
        elif isinstance(value, list):
            self.value(term_ctx, key, value, path)
        elif coercion is not None and isinstance(value, str):
            self.scalar(term_ctx, coercion, value, path, None)

    def value(self, ctx: Any, active_property: str | None, value: Any, path: tuple) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.value(ctx, active_property, item, (path, index))
        elif isinstance(value, dict):
            self.node_or_value(ctx, active_property, value, path, None)
        elif isinstance(value, str):
            coercion = (_mapping(ctx, active_property) or _EMPTY).get("@type")
            if coercion is not None:
                self.scalar(ctx, coercion, value, path, None)

    def scalar(self, ctx: Any, coercion: str, value: str, path: tuple, facts: _Facts | None) -> None:
        """A string under a term coerced to an IRI (`@id`) or a vocabulary term (`@vocab`)."""
        if coercion == "@id":
            if not is_node_id(value):
                raise DroppedData(f"{value!r} is not an absolute IRI: JSON-LD would drop the statement", render(path))
            self.no_compact(facts or _facts(ctx), value, path)
        elif coercion == "@vocab":
            self.vocab_value(ctx, value, path, "value")

    # -- keys, types, ids ------------------------------------------------------------------------

    def key(self, ctx: Any, facts: _Facts, key: str, path: tuple) -> tuple[str, Any, Any]:
        """(expansion, term mapping, type coercion) of a key, or a refusal; cached on the context when it can be."""
        info = self._key(ctx, facts, key, path)
        if not self.embedded_terms:
            facts.keys[key] = info
        return info

    def _key(self, ctx: Any, facts: _Facts, key: str, path: tuple) -> tuple[str, Any, Any]:
        if key.startswith("@"):
            if not jsonld._is_keyword(key):
                if _KEYWORD_LIKE.match(key):
                    raise DroppedData(f"{key!r} looks like a keyword but is none: JSON-LD ignores it", render(path))
                raise NoncanonicalTerm(f"{key!r} is not a term of the context", render(path))
            if key not in _DIRECT_KEYWORDS:
                raise NoncanonicalTerm(f"{key} is not allowed in signed documents: it moves data out of the shape checks read", render(path))
            aliases = facts.keyword_aliases.get(key)
            if aliases:
                raise NoncanonicalTerm(f"write {aliases[0]!r}, the context's term for {key}", render(path))
            return key, None, None
        if key in ctx["mappings"]:
            mapping = ctx["mappings"][key]
            if mapping is None:
                raise UndefinedTerm(f"{key!r} is explicitly undefined by the context: it would be left unsigned", render(path))
            iri = mapping.get("@id")
            if isinstance(iri, str) and iri.startswith("@"):
                if iri not in _ALIASABLE or key in self.embedded_terms:
                    raise NoncanonicalTerm(f"{key!r} aliases {iri}, which signed documents may not use", render(path))
                return iri, mapping, None
            if mapping.get("reverse"):
                raise NoncanonicalTerm(f"{key!r} is a reverse property: it states something about another node", render(path))
            if not is_absolute_iri(iri):
                raise DroppedData(f"{key!r} stands for {iri!r}, not an absolute IRI: its statements would be dropped", render(path))
            if key in self.embedded_terms:
                self.unique(facts, key, iri, path)
            return iri, mapping, mapping.get("@type")
        if ":" in key:
            raise NoncanonicalTerm(f"{key!r} is an IRI, not a term of the context; use the term the context defines", render(path))
        vocab = ctx.get("@vocab")
        if vocab:
            iri = vocab + key
            if not is_absolute_iri(iri):
                raise DroppedData(f"{key!r} expands to {iri!r} (a relative @vocab), not an absolute IRI", render(path))
            self.unique(facts, key, iri, path)
            return iri, None, None
        raise UndefinedTerm(f"{key!r} is not defined by the document's @context: it would be left unsigned", render(path))

    def types(self, ctx: Any, value: Any, path: tuple, in_value_object: bool) -> None:
        if in_value_object and isinstance(value, list):
            raise DroppedData("a value's type must be one string", render(path))
        if isinstance(value, list):
            for index, type_ in enumerate(value):
                self.vocab_value(ctx, type_, (path, index), "type")
        else:
            self.vocab_value(ctx, value, path, "type")

    def vocab_value(self, ctx: Any, value: Any, path: tuple, what: str) -> None:
        """A type (or @vocab-coerced value): a defined term, an absolute IRI no term names, or @vocab-relative."""
        if not isinstance(value, str):
            raise DroppedData(f"a {what} must be a string", render(path))
        mapping = ctx["mappings"].get(value, False)
        if mapping is None:
            raise DroppedData(f"{what} {value!r} is explicitly undefined by the context", render(path))
        if mapping is not False:
            if value in self.embedded_terms:
                self.unique(_facts(ctx), value, mapping.get("@id"), path)
            return
        facts = _facts(ctx)
        if ":" in value:
            self.no_compact(facts, value, path)
            if not is_node_id(value):
                raise DroppedData(f"{what} {value!r} is not an absolute IRI: it would be dropped", render(path))
            self.unique(facts, value, value, path)
            return
        vocab = ctx.get("@vocab")
        if vocab:
            if not is_node_id(vocab + value):
                raise DroppedData(f"{what} {value!r} expands to {vocab + value!r}, not an absolute IRI", render(path))
            self.unique(facts, value, vocab + value, path)
            return
        raise DroppedData(f"{what} {value!r} is not defined by the document's @context: it would be dropped or resolved against a made-up base", render(path))

    @staticmethod
    def no_compact(facts: _Facts, value: str, path: tuple) -> None:
        prefix, _, suffix = value.partition(":")
        if prefix in facts.prefixes and not suffix.startswith("//"):
            raise NoncanonicalTerm(f"{value!r} is a compact IRI (prefix {prefix!r}); write the IRI it expands to", render(path))

    @staticmethod
    def unique(facts: _Facts, name: str, iri: Any, path: tuple) -> None:
        # Only names the document itself defines (or that are no term at all) are held to this: the
        # bundled contexts do give some IRIs two names (OB 3.0: `criteria` and `Criteria`), and a
        # published context is not the document's respelling.
        for other in facts.by_iri.get(iri, ()):
            if other != name:
                raise NoncanonicalTerm(f"{name!r} names {iri}, which the context calls {other!r}; use {other!r}", render(path))


def _expand_key(ctx: Any, key: str) -> Any:
    if key.startswith("@"):
        return key
    mapping = ctx["mappings"].get(key)
    return mapping.get("@id") if mapping else None


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    cause = exc.__cause__
    while cause is not None and getattr(cause, "message", None):
        message = f"{message} ({cause.message})"
        cause = cause.__cause__
    return str(message).splitlines()[0][:300]
