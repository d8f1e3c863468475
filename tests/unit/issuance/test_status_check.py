"""The `status` check over a list fetched from elsewhere (list signature verification stubbed): how a
2-bit "message" entry is read, and that every malformed or unknown status fails closed, typed."""

import copy
from datetime import datetime, timezone

import pytest

from node.issuance.status_check import StatusCheck
from node.verification.pipeline import Fetching
from node.issuance.status_list import LIST_SIZE, STATUS_SIZE, Bitstring, list_credential, message_entry, status_entry

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
ISSUER = "did:web:other.example:institutions:x"
URL = "https://other.example/status/m"


class Verified:
    verified = True


async def verified(listing, now):
    return Verified()


def listing(values, purpose="message", size=STATUS_SIZE):
    bits = Bitstring(LIST_SIZE * size)
    for index, value in values.items():
        bits.set_value(index, value, size)
    return list_credential(URL, ISSUER, purpose, bits, NOW)


def credential(entry):
    return {"issuer": {"id": ISSUER}, "credentialStatus": entry}


async def run(entry, document):
    async def fetch(url):
        assert url == URL
        return copy.deepcopy(document)

    checks = await StatusCheck()(credential(entry), Fetching(NOW, fetch, lambda listing: verified(listing, NOW)))
    assert [c.check for c in checks] == ["status"]
    return checks[0].ok, checks[0].reason


@pytest.mark.parametrize("value,expected", [
    (0x0, (True, None)), (0x1, (False, "revoked")), (0x2, (False, "suspended")), (0x3, (False, "revoked")),
])
async def test_each_value_means_what_its_status_message_says(value, expected):
    assert await run(message_entry(URL, 7), listing({7: value})) == expected


@pytest.mark.parametrize("change,reason", [
    (lambda e: e.update(statusSize=1), "invalid_status_entry"),  # 4 messages do not fit 1 bit
    (lambda e: e.update(statusSize=3), "invalid_status_entry"),
    (lambda e: e.pop("statusMessage"), "invalid_status_entry"),
    (lambda e: e["statusMessage"].pop(0), "invalid_status_entry"),
    (lambda e: e["statusMessage"][0].update(status="0x1"), "invalid_status_entry"),
    (lambda e: e["statusMessage"][1].update(message="ask the registrar"), "unknown_status"),
    (lambda e: e.update(statusListIndex="x"), "invalid_status_entry"),
    (lambda e: e.update(statusPurpose="revocation"), "invalid_status_list"),  # purpose differs from the list's
    (lambda e: e.update(type="StatusList2021Entry"), "unsupported_status"),
])
async def test_malformed_entries_fail_closed(change, reason):
    entry = message_entry(URL, 7)
    change(entry)
    assert await run(entry, listing({7: 0x1})) == (False, reason)


async def test_a_list_with_another_status_size_fails_closed():
    one_bit = listing({}, size=1)  # 131,072 bits read as 2-bit entries: too short, so not this list
    assert await run(message_entry(URL, 7), one_bit) == (False, "invalid_status_list")


async def test_single_purpose_entries_and_arrays_of_them_still_work():
    revocation = listing({5: 1}, purpose="revocation", size=1)
    assert await run(status_entry(URL, "revocation", 5), revocation) == (False, "revoked")
    assert await run(status_entry(URL, "revocation", 6), revocation) == (True, None)
    suspension = listing({5: 1}, purpose="suspension", size=1)
    assert await run([status_entry(URL, "suspension", 5)], suspension) == (False, "suspended")
    assert await run([], revocation) == (False, "invalid_status_entry")
