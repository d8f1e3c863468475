"""node.crypto.canonicalize.jcs writes RFC 8785 bytes through the C JSON encoder when that is provably the
same output (plain JSON types, ASCII keys, safe integers, no floats) and through the reference serializer
(rfc8785) otherwise. Every case is compared with the reference, byte for byte."""

import json
import random
from pathlib import Path

import pytest
import rfc8785

from node.crypto.canonicalize import CanonicalizationError, jcs

REPO = Path(__file__).resolve().parents[3]
EVERY_CONTROL = "".join(chr(i) for i in range(0x20))


@pytest.mark.parametrize("value", [
    json.loads((REPO / "benchmarks/data/ob3-credential.json").read_text()),
    {"s": EVERY_CONTROL + '"\\/\x7f\u2028\u2029é中😀', "e": "", "n": None, "t": True, "f": False},
    {"ints": [0, -1, 1, 2**53 - 1, -(2**53) + 1], "nested": [[], {}, [{}], {"a": []}]},
    {"b": 1, "a": 2, "A": 3, "_": 4, "aa": 5, "a_": 6, "": 7},
    # non-ASCII keys: RFC 8785 orders by UTF-16 code units, not code points (U+E000 after U+1F600's surrogates)
    {"\ue000": 1, "😀": 2, "é": 3, "z": 4},
    {"floats": [1.0, 0.5, 1e21, 1e-7, -0.0, 123456789.125]},
    ["top", "level", "list"],
    "a string", 7, None,
])
def test_same_bytes_as_the_reference(value):
    assert jcs(value) == rfc8785.dumps(value)


def test_random_documents_match_the_reference():
    rng = random.Random(8)
    alphabet = ["a", "b", "Z", "_", "0", "é", "\ue000", "😀", '"', "\\", "\n", "\x01", " "]

    def text(ascii_only=False):
        letters = alphabet[:5] if ascii_only else alphabet
        return "".join(rng.choice(letters) for _ in range(rng.randrange(0, 6)))

    def value(depth):
        kind = rng.randrange(8 if depth < 4 else 5)
        if kind == 0:
            return text()
        if kind == 1:
            return rng.choice([None, True, False])
        if kind == 2:
            return rng.randrange(-(2**53) + 1, 2**53)
        if kind == 3:
            return rng.choice([rng.random() * 10 ** rng.randrange(-9, 25), 3])
        if kind == 4:
            return rng.randrange(-5, 5)
        if kind == 5:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {text(ascii_only=rng.random() < 0.8): value(depth + 1) for _ in range(rng.randrange(5))}

    for _ in range(3000):
        document = {text(True): value(0) for _ in range(rng.randrange(1, 6))}
        assert jcs(document) == rfc8785.dumps(document)


@pytest.mark.parametrize("value", [
    {"big": 2**53}, {"small": -(2**53)}, {"nan": float("nan")}, {"inf": float("inf")},
    {"lone surrogate": "\ud800"}, {"\udfff": 1}, {1: "a non-string key"}, {"bytes": b"x"}, {"set": {1}},
])
def test_what_the_reference_refuses_is_refused(value):
    with pytest.raises(CanonicalizationError):
        jcs(value)


def test_a_cycle_is_refused_not_looped_on():
    from node.crypto.bounded_canon import TooComplex

    cyclic: dict = {"a": []}
    cyclic["a"].append(cyclic)
    with pytest.raises(TooComplex):
        jcs(cyclic)
