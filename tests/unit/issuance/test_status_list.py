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


# ---------------------------------------------------------------------------------------------
# 2-bit "message" entries (what Puente issues)

from datetime import datetime, timezone  # noqa: E402

from node.issuance.status_list import (  # noqa: E402
    REVOKED_BIT, STATUS_SIZE, SUSPENDED_BIT, StatusEntryError, entry_verdict, message_entry, read_value, status_messages,
)

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
URL = "http://n/status/m"


def message_list(values: dict[int, int]):
    bits = Bitstring(LIST_SIZE * STATUS_SIZE)
    for index, value in values.items():
        bits.set_value(index, value, STATUS_SIZE)
    return list_credential(URL, "did:web:n", "message", bits, AT)


def test_two_bit_values_sit_at_2i_msb_first():
    bits = Bitstring(LIST_SIZE * STATUS_SIZE)
    bits.set_value(0, REVOKED_BIT, 2)  # 0b01 -> bits 0,1 = 0,1
    bits.set_value(1, SUSPENDED_BIT, 2)  # 0b10 -> bits 2,3 = 1,0
    bits.set_value(3, 0x3, 2)  # bits 6,7 = 1,1
    assert bits.to_bytes()[0] == 0b01_10_00_11
    again = Bitstring.decode(bits.encode())
    assert [again.get_value(i, 2) for i in range(4)] == [1, 2, 0, 3]
    assert again.entries(2) == LIST_SIZE and again.size == 262_144
    again.set_value(LIST_SIZE - 1, 2, 2)
    assert again.get_value(LIST_SIZE - 1, 2) == 2 and again.get(262_142) and not again.get(262_143)
    with pytest.raises(InvalidInput):
        again.get_value(LIST_SIZE, 2)
    with pytest.raises(InvalidInput):
        again.set_value(0, 4, 2)


def test_message_entry_is_spec_shaped():
    entry = message_entry(URL, 5)
    assert entry["statusSize"] == 2 and isinstance(entry["statusSize"], int)
    assert len(entry["statusMessage"]) == 2 ** entry["statusSize"]
    assert status_messages(entry) == {0: "valid", 1: "revoked", 2: "suspended", 3: "revoked"}


def test_values_map_through_the_status_message():
    listing = message_list({1: REVOKED_BIT, 2: SUSPENDED_BIT, 3: REVOKED_BIT | SUSPENDED_BIT})
    verdicts = [entry_verdict(message_entry(URL, i), read_value(listing, message_entry(URL, i))) for i in range(5)]
    assert verdicts == [None, "revoked", "suspended", "revoked", None]  # revoked wins over suspended


@pytest.mark.parametrize("change,reason", [
    (lambda e: e.update(statusSize=3), "invalid_status_entry"),  # 4 messages for 8 values
    (lambda e: e.update(statusSize="two"), "invalid_status_entry"),
    (lambda e: e.update(statusSize=0), "invalid_status_entry"),
    (lambda e: e.pop("statusMessage"), "invalid_status_entry"),
    (lambda e: e["statusMessage"].pop(), "invalid_status_entry"),
    (lambda e: e["statusMessage"][3].update(status="0x2"), "invalid_status_entry"),  # a value named twice
    (lambda e: e["statusMessage"][3].update(status="three"), "invalid_status_entry"),
    (lambda e: e["statusMessage"][1].update(message="under review"), "unknown_status"),
])
def test_malformed_or_unknown_status_messages_fail_closed(change, reason):
    listing = message_list({0: REVOKED_BIT})
    entry = message_entry(URL, 0)
    change(entry)
    with pytest.raises(StatusEntryError) as caught:
        entry_verdict(entry, read_value(listing, entry))
    assert caught.value.reason == reason


def test_size_mismatch_between_entry_and_list_fails_closed():
    single = Bitstring()  # 131,072 one-bit entries read as 2-bit entries: only 65,536, below the minimum
    listing = list_credential(URL, "did:web:n", "message", single, AT)
    with pytest.raises(StatusEntryError) as caught:
        read_value(listing, message_entry(URL, 0))
    assert caught.value.reason == "invalid_status_list"
    with pytest.raises(InvalidInput):  # purpose mismatch
        read_value(message_list({}), status_entry(URL, "revocation", 0))


def test_single_bit_entries_keep_their_meaning(conformance):
    listing = conformance("status", "status-list-credential.json")
    entry = conformance("status", "revocable-credential.json")["credentialStatus"]
    assert entry_verdict(entry, read_value(listing, entry)) is None
    assert entry_verdict(entry, 1) == "revoked"
    assert entry_verdict(status_entry(URL, "suspension", 3), 1) == "suspended"
    assert entry_verdict(status_entry(URL, "suspension", 3), 0) is None
