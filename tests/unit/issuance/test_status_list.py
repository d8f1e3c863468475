import pytest

from node.errors import InvalidInput
from node.issuance.status_list import LIST_SIZE, Bitstring, list_credential, permute, read_status, status_entry


def test_decodes_the_w3c_example_list(conformance):
    listing = conformance("status", "status-list-credential.json")
    credential = conformance("status", "revocable-credential.json")
    bits = Bitstring.decode(listing["credentialSubject"]["encodedList"])
    assert bits.size == LIST_SIZE and bits.count() == 0
    assert read_status(listing, credential["credentialStatus"]) is False


def test_set_bits_survive_encoding_and_use_spec_bit_order():
    bits = Bitstring()
    for index in (0, 7, 94567, LIST_SIZE - 1):
        bits.set(index, True)
    assert bits.to_bytes()[0] == 0b1000_0001  # index 0 is the left-most bit
    again = Bitstring.decode(bits.encode())
    assert [i for i in (0, 1, 7, 8, 94567, LIST_SIZE - 1) if again.get(i)] == [0, 7, 94567, LIST_SIZE - 1]
    again.set(7, False)
    assert again.count() == 3
    assert bits.encode() == Bitstring.decode(bits.encode()).encode()  # deterministic (gzip mtime 0)


def test_permutation_is_a_collision_free_bijection():
    key = b"k" * 32
    small = [permute(key, slot, 4096) for slot in range(4096)]
    assert sorted(small) == list(range(4096))  # a bijection (checked exhaustively on a small list)
    indexes = [permute(key, slot) for slot in range(5000)]
    assert len(set(indexes)) == 5000 and max(indexes) < LIST_SIZE
    assert indexes[:20] != list(range(20))  # not issuance order
    assert [permute(b"other", s) for s in range(20)] != indexes[:20]


def test_read_status_refuses_mismatches():
    bits = Bitstring()
    bits.set(42, True)
    doc = list_credential("http://n/status/a", "did:web:n", "revocation", bits, __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc))
    assert read_status(doc, status_entry("http://n/status/a", "revocation", 42)) is True
    assert read_status(doc, status_entry("http://n/status/a", "revocation", 41)) is False
    with pytest.raises(InvalidInput):
        read_status(doc, status_entry("http://n/status/a", "suspension", 42))
    with pytest.raises(InvalidInput):
        read_status(doc, status_entry("http://n/status/b", "revocation", 42))
    with pytest.raises(InvalidInput):
        read_status(doc, status_entry("http://n/status/a", "revocation", LIST_SIZE))
    with pytest.raises(InvalidInput):
        Bitstring.decode("zNotBase64url")
