"""RDF canonicalization with bounded work (architecture rule 10).

RDFC-1.0 is exponential in the worst case: blank nodes that look alike (a clique, a long chain, many
identical siblings) make Hash N-Degree Quads try every permutation, recursively. A 4 KB credential whose
subject is a clique of 8 blank nodes takes a minute in stock pyld. Digital Bazaar's rdf-canonize bounds
this with `maxWorkFactor` (deep iterations <= non-unique blank nodes ** factor); we do the same, and add:

- a structural pre-scan before any JSON-LD processing (nesting depth, number of objects/arrays), because
  expansion itself is linear but slow in pure Python and has no checkpoints;
- caps on quads and blank nodes of the dataset;
- a permutation budget counted *before* permuting (n! for a group of n look-alike related nodes);
- a wall-clock deadline per document, checked inside the algorithm.

Exceeding any bound raises `TooComplex` (an `InvalidInput`): a failed check `too_complex` on verify, a
400 problem on sign. The output for documents within bounds is byte-for-byte pyld's URDNA2015.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from node.errors import InvalidInput


class TooComplex(InvalidInput):
    slug = "too-complex"
    title = "Document too complex to canonicalize"


@dataclass(frozen=True)
class WorkLimits:
    max_depth: int = 64  # JSON nesting; an Open Badges 3.0 credential is about 8 deep
    max_nodes: int = 20_000  # JSON objects + arrays in one document
    max_quads: int = 50_000
    max_blank_nodes: int = 5_000
    # Hash N-Degree Quads calls <= (look-alike blank nodes) ** work_factor, as rdf-canonize's maxWorkFactor. Its
    # default, 1, refuses RDF lists (an @list of n items is a chain of n look-alike cells costing n**2 calls):
    # our own readiness assessments (13 answers) need 2, and so do Digital Bazaar's libraries to read them.
    work_factor: float = 2.0
    max_permutations: int = 10_000  # orderings of look-alike related nodes tried per document (7! = 5,040 fits, 8! does not)
    time_budget: float = 1.0  # wall-clock seconds per document inside the algorithm


DEFAULT_LIMITS = WorkLimits()


def check_structure(document: Any, limits: WorkLimits = DEFAULT_LIMITS) -> None:
    """Refuse documents too deep or too large before anything recursive touches them (iterative walk)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    nodes = 1
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_depth:
            raise TooComplex(f"the document is nested more than {limits.max_depth} levels deep")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                nodes += 1
                if nodes > limits.max_nodes:
                    raise TooComplex(f"the document has more than {limits.max_nodes} JSON objects and arrays")
                stack.append((child, depth + 1))


def canonize(processor: jsonld.JsonLdProcessor, document: Any, options: dict[str, Any],
             limits: WorkLimits = DEFAULT_LIMITS) -> str:
    """`processor.normalize(document, options)` for URDNA2015 N-Quads, within `limits`."""
    check_structure(document, limits)
    deadline = time.monotonic() + limits.time_budget
    # The same option defaults pyld's normalize() sets before converting to RDF.
    opts = {k: v for k, v in options.items() if k not in ("format", "algorithm")}
    opts.setdefault("base", "")
    opts.setdefault("contextResolver", ContextResolver(jsonld._resolved_context_cache, opts["documentLoader"]))
    opts.setdefault("extractAllScripts", True)
    opts.setdefault("processingMode", "json-ld-1.1")
    opts.pop("identifierIssuer", None)
    opts["produceGeneralizedRdf"] = False
    try:
        dataset = processor.to_rdf(document, opts)
    except jsonld.JsonLdError as cause:
        raise jsonld.JsonLdError("Could not convert input to RDF dataset before normalization.",
                                 "jsonld.NormalizeError") from cause
    _check_dataset(dataset, limits)
    if time.monotonic() > deadline:
        raise TooComplex(f"JSON-LD processing took longer than {limits.time_budget:g} s")
    return BoundedURDNA2015(limits, deadline).main(dataset, {"format": "application/n-quads"})


def _check_dataset(dataset: dict[str, list[dict[str, Any]]], limits: WorkLimits) -> None:
    quads = sum(len(triples) for triples in dataset.values())
    if quads > limits.max_quads:
        raise TooComplex(f"the document yields {quads} RDF statements; at most {limits.max_quads} are accepted")
    blank = {name for name in dataset if name.startswith("_:")}
    for triples in dataset.values():
        for triple in triples:
            for position in ("subject", "object"):
                if triple[position]["type"] == "blank node":
                    blank.add(triple[position]["value"])
        if len(blank) > limits.max_blank_nodes:
            break
    if len(blank) > limits.max_blank_nodes:
        raise TooComplex(f"the document has more than {limits.max_blank_nodes} blank nodes")


class BoundedURDNA2015(URDNA2015):
    """pyld's URDNA2015 with a deep-iteration budget, a permutation budget and a deadline."""

    def __init__(self, limits: WorkLimits, deadline: float) -> None:
        super().__init__()
        self._limits = limits
        self._deadline = deadline
        self._deep_left: float | None = None  # set at the first N-degree call, when look-alikes are known
        self._permutations_left = limits.max_permutations

    def _check_time(self) -> None:
        if time.monotonic() > self._deadline:
            raise TooComplex(f"canonicalization took longer than {self._limits.time_budget:g} s")

    def hash_first_degree_quads(self, id_):
        self._check_time()
        return super().hash_first_degree_quads(id_)

    def hash_n_degree_quads(self, id_, issuer):
        if self._deep_left is None:
            # pyld calls this only in step 6, when hash_to_blank_nodes holds exactly the groups of
            # blank nodes whose first-degree hashes collide (rdf-canonize's "non-unique" list).
            look_alikes = sum(len(ids) for ids in self.hash_to_blank_nodes.values())
            self._deep_left = look_alikes ** self._limits.work_factor
        if self._deep_left < 1:
            raise TooComplex("the document's blank nodes are too alike to canonicalize within the work limit "
                             f"(work factor {self._limits.work_factor:g})")
        self._deep_left -= 1
        self._check_time()
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_, issuer):
        hash_to_related = super().create_hash_to_related(id_, issuer)
        for related in hash_to_related.values():
            # Count the permutations hash_n_degree_quads is about to try, before it tries them.
            if len(related) < 2:
                continue  # one ordering: no search
            self._permutations_left -= math.factorial(len(related)) if len(related) <= 12 else math.inf
            if self._permutations_left < 0:
                raise TooComplex(f"canonicalization needs more than {self._limits.max_permutations} permutations "
                                 "of look-alike blank nodes")
        self._check_time()
        return hash_to_related
