"""The status entries a credential is built with (pure): one 1-bit revocation object by default, an array of
1-bit revocation + suspension entries where the institution turned suspension on, and how the OB 3.0 schema
check treats each."""

from node.issuance.lists import Allocation
from node.issuance.model import make_recipient
from node.issuance.ob3 import build_credential
from node.issuance.schema import first_error, ob3_first_error, ob3_schema_errors, schema_errors
from node.issuance.status_list import MESSAGE, message_entry, status_entry

BASE = "http://127.0.0.1:8080"
PROOF = [{
    "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-03-01T12:00:00Z",
    "verificationMethod": "did:web:127.0.0.1%3A8080:institutions:intecap#key-1", "proofPurpose": "assertionMethod",
    "proofValue": "z3yy",
}]


def build(template, institution, issued_at, status):
    credential = build_credential(
        template=template, institution=institution, recipient=make_recipient("Ana", "López", "ana@example.org", "pepper"),
        credential_id=f"{BASE}/credentials/0b5c", issued_at=issued_at, credential_status=status, base_url=BASE)
    return dict(credential, proof=PROOF)


def test_entries_are_one_bit_and_spell_their_purpose():
    revocation = Allocation("r1", 17).entry(BASE)
    assert revocation == status_entry(f"{BASE}/status/r1", "revocation", 17) == {
        "id": f"{BASE}/status/r1#17", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "17", "statusListCredential": f"{BASE}/status/r1"}
    assert Allocation("s1", 5, "suspension").entry(BASE)["statusPurpose"] == "suspension"
    assert Allocation("m1", 3, MESSAGE).entry(BASE) == message_entry(f"{BASE}/status/m1", 3)  # 0005 credentials


def test_one_entry_is_one_object_valid_against_the_schema_as_published(template, institution, issued_at):
    credential = build(template, institution, issued_at, [Allocation("r1", 17).entry(BASE)])
    assert isinstance(credential["credentialStatus"], dict)
    assert schema_errors(credential) == [] and first_error(credential) is None
    assert ob3_schema_errors(credential) == [] and ob3_first_error(credential) is None


def test_two_entries_are_an_array_checked_entry_by_entry(template, institution, issued_at):
    entries = [Allocation("r1", 17).entry(BASE), Allocation("s1", 5, "suspension").entry(BASE)]
    credential = build(template, institution, issued_at, entries)
    assert credential["credentialStatus"] == entries
    assert [e["path"] for e in schema_errors(credential)] == ["/credentialStatus"]  # the schema wants one object
    assert ob3_schema_errors(credential) == [] and ob3_first_error(credential) is None

    broken = dict(credential, credentialStatus=[entries[0], {k: v for k, v in entries[1].items() if k != "id"}])
    assert [e["path"] for e in ob3_schema_errors(broken)] == ["/credentialStatus/1"]
    assert ob3_first_error(broken)["path"] == "/credentialStatus/1"
    elsewhere = dict(credential, validFrom="yesterday")
    assert [e["path"] for e in ob3_schema_errors(elsewhere)] == ["/validFrom"]  # reported once, not per entry
