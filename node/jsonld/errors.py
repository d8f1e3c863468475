"""Typed refusals of documents whose JSON does not say what their signed graph says (architecture rule 9).

Each carries the JSON path of the offending key or value (`path`, also in the problem+json body), and
its slug with dashes turned into underscores is the verification reason (`noncanonical_term`, ...).
"""

from __future__ import annotations

from node.errors import InvalidInput


class UnsafeDocument(InvalidInput):
    slug = "unsafe-document"
    title = "Document is not safe to sign or verify"

    def __init__(self, detail: str, path: str = "$") -> None:
        super().__init__(f"{path}: {detail}", path=path)
        self.path = path

    def __reduce__(self):  # keep the path when sent to or from a worker process
        return (_rebuild, (type(self), self.detail, self.path))

    @property
    def reason(self) -> str:
        return self.slug.replace("-", "_")


def _rebuild(kind: type, detail: str, path: str) -> UnsafeDocument:
    error = kind.__new__(kind)
    InvalidInput.__init__(error, detail, path=path)
    error.path = path
    return error


class NoncanonicalTerm(UnsafeDocument):
    """A key or value spelled otherwise than the term its context defines (an IRI, a compact IRI, an
    alias, a keyword written directly, a redefinition): checks that read JSON keys would miss it."""

    slug = "noncanonical-term"
    title = "Key is not the term its context defines"


class DroppedData(UnsafeDocument):
    """JSON-LD processing would drop this data from the signed graph (relative or invalid IRI, undefined
    type, value that makes no triple): it would be left unsigned."""

    slug = "dropped-data"
    title = "Data would be dropped from the signed graph"


class UndefinedTerm(DroppedData):
    """A key the document's contexts do not define: JSON-LD drops it, so it would be left unsigned."""

    slug = "undefined-term"
    title = "Term not defined by the JSON-LD context"


class ContextProcessingFailed(UnsafeDocument):
    slug = "invalid-context"
    title = "JSON-LD context cannot be processed"


REASONS = frozenset(k.slug.replace("-", "_") for k in (NoncanonicalTerm, DroppedData, UndefinedTerm, ContextProcessingFailed))


def cause_of(exc: BaseException | None, kind: type):
    """The first exception of `kind` in `exc`'s cause/context chain (pyld wraps ours in JsonLdError), or None."""
    while exc is not None:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None
