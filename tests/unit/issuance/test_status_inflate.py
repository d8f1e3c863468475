"""A status list's encodedList is inflated streamed and bounded: a few KB of GZIP that would inflate to
gigabytes is refused with a typed reason before the memory is taken (issue 8, item 2/4)."""

import base64
import gzip
import zlib

import pytest

from node.errors import InvalidInput
from node.issuance.status_list import LIST_SIZE, Bitstring, StatusEntryError, list_credential, read_value, status_entry

URL = "https://other.example/status/1"


def encoded(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).rstrip(b"=").decode()


def bomb(megabytes: int) -> str:
    """GZIP of `megabytes` MiB of zeros, built streamed (~1 KB per MiB)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    body = b"".join(deflater.compress(chunk) for _ in range(megabytes)) + deflater.flush()
    return "u" + base64.urlsafe_b64encode(body).rstrip(b"=").decode()


def listing(encoded_list: str) -> dict:
    document = list_credential(URL, "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "revocation",
                               Bitstring(LIST_SIZE), __import__("datetime").datetime(2026, 1, 1))
    document["credentialSubject"]["encodedList"] = encoded_list
    return document


def test_an_inflate_bomb_is_refused_typed_not_inflated():
    small = bomb(64)  # 64 MiB of zeros in ~64 KB: a list of 512 Mi entries whose bits all read "valid"
    assert len(small) < 200_000
    with pytest.raises(StatusEntryError) as refused:
        read_value(listing(small), status_entry(URL, "revocation", 7))
    assert refused.value.reason == "status_list_too_large"


def test_the_cap_is_status_size_times_the_list_length():
    exact = encoded(bytes(LIST_SIZE // 8))
    assert read_value(listing(exact), status_entry(URL, "revocation", 7)) == 0
    one_byte_more = encoded(bytes(LIST_SIZE // 8 + 1))
    with pytest.raises(StatusEntryError) as refused:
        read_value(listing(one_byte_more), status_entry(URL, "revocation", 7))
    assert refused.value.reason == "status_list_too_large"
    with pytest.raises(StatusEntryError):  # the default cap of decode itself is bounded too
        Bitstring.decode(bomb(2))


def test_trailing_members_and_truncation_are_refused():
    good = base64.urlsafe_b64decode(encoded(bytes(16))[1:] + "==")
    for body in (good + good, good[:-4]):
        with pytest.raises(InvalidInput):
            Bitstring.decode("u" + base64.urlsafe_b64encode(body).rstrip(b"=").decode())


def test_a_remembered_inflation_keeps_its_bound_and_hands_out_copies():
    """Decoding is memoised per (encodedList, bound): a list inflated under a large bound is still refused
    under a smaller one, and a caller editing its Bitstring does not change what the next one reads."""
    bits = Bitstring(2 * LIST_SIZE)
    bits.set(5, True)
    text = bits.encode()
    first = Bitstring.decode(text, max_bits=2 * LIST_SIZE)
    first.set(5, False)
    again = Bitstring.decode(text, max_bits=2 * LIST_SIZE)
    assert again.get(5) and again.size == 2 * LIST_SIZE
    with pytest.raises(StatusEntryError):
        Bitstring.decode(text, max_bits=LIST_SIZE)
    with pytest.raises(StatusEntryError):  # refusals are not remembered as anything else
        Bitstring.decode(text, max_bits=LIST_SIZE)
