"""The two canonical forms Data Integrity signs: RDFC-1.0 (URDNA2015) N-Quads and RFC 8785 JSON."""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from pyld import jsonld

from node.crypto.bounded_canon import TooComplex, canonize, check_structure
from node.errors import InvalidInput, UnknownContext
from node.jsonld.loader import check_contexts, document_loader
from node.jsonld.errors import UndefinedTerm, UnsafeDocument, cause_of  # noqa: F401 (UndefinedTerm: re-exported)
from node.jsonld.safe import SafeJsonLdProcessor

_RDFC_OPTIONS = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": document_loader}


class CanonicalizationError(InvalidInput):
    slug = "canonicalization-failed"
    title = "Document cannot be canonicalized"


def rdfc(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, using bundled contexts only, in safe mode."""
    check_structure(document)  # first: the context scan below recurses
    check_contexts(document)
    try:
        # Bounded work (rule 10): too deep, too large or too many look-alike blank nodes -> TooComplex.
        # Safe mode (rule 9): nothing JSON-LD would drop is left unsigned -> DroppedData/UndefinedTerm.
        return canonize(SafeJsonLdProcessor(), document, dict(_RDFC_OPTIONS))
    except (TooComplex, UnsafeDocument):
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:  # pyld crashes, e.g. {"@vocab": null}
        raise CanonicalizationError(f"JSON-LD processing failed ({type(exc).__name__}: {exc})") from None
    except jsonld.JsonLdError as exc:
        dropped = cause_of(exc, UndefinedTerm)
        if dropped:
            raise dropped from None
        unknown = cause_of(exc, UnknownContext)
        if unknown:
            raise unknown from None
        raise CanonicalizationError(f"JSON-LD processing failed: {_first_line(exc)}") from None


# RFC 8785 is ECMAScript's JSON.stringify with keys sorted by UTF-16 code units. For a document of plain
# JSON types (dict, list, str, bool, None, int), with ASCII keys (where code-point order is UTF-16 order),
# integers in the double-safe range and no floats (ECMAScript formats them differently from Python), the C
# JSON encoder writes the same bytes: the same string escapes (", \, \b \f \n \r \t, other controls as
# lowercase \u00xx, nothing else). That is every credential Puente signs, ~5x faster than the reference
# serializer, which still handles (and refuses) everything else. tests/unit/crypto/test_jcs.py compares both.
_SAFE_INT = 2**53 - 1
_PLAIN_NODES = 200_000  # more values than this (or a cycle): the reference serializer decides


def _plain(document: Any) -> bool:
    stack = [document]
    budget = _PLAIN_NODES
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue
        budget -= 1
        if budget < 0:
            return False
        if kind is dict:
            for key in value:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(value.values())
        elif kind is list:
            stack.extend(value)
        elif kind is not int or not -_SAFE_INT <= value <= _SAFE_INT:
            return False  # floats, big integers, tuples, subclasses
    return True


def jcs(document: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme."""
    try:
        if _plain(document):
            return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False,
                              check_circular=False).encode("utf-8")
        return rfc8785.dumps(document)
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8, as the reference says
        raise CanonicalizationError("JSON canonicalization failed: input contains non-UTF-8 codepoints") from None
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalizationError(f"JSON canonicalization failed: {exc}") from None
    except RecursionError:
        # The serializer recurses. JCS work is linear, so only absurd nesting needs refusing, and catching
        # it here costs nothing on the hot path (a structure walk first would cost ~10% of a jcs sign).
        raise TooComplex("the document is nested too deeply to canonicalize") from None


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).splitlines()[0][:300]
