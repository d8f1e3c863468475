import json

import pytest

from node.errors import ForbiddenTransition, InvalidInput, NotFound, ValidationFailed
from node.issuance.schema import schema_errors
from node.issuance.status_list import read_value

ROW = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}


async def test_issue_one_is_signed_valid_and_idempotent(issuance, services):
    issued = await issuance.issue_one("intecap-albanileria-2", ROW)
    doc = issued.to_json()
    assert schema_errors(doc) == []
    assert doc["issuer"]["id"].endswith(":institutions:intecap")
    assert "ana@example.org" not in issued.document
    assert (await services.signer.verify(doc, services.resolver)).verified
    again = await issuance.issue_one("intecap-albanileria-2", ROW)
    assert again.id == issued.id and again.new is False and again.document == issued.document


async def test_revoke_suspend_unsuspend_change_the_bits_of_the_signed_lists(issuance, services):
    await issuance.set_status_purposes("intecap", suspension=True)
    issued = await issuance.issue_one("intecap-albanileria-2", ROW, suite="eddsa-jcs-2022")
    entries = issued.to_json()["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]

    async def value():
        """(revocation bit, suspension bit) and the digests of both signed lists."""
        bits, digests = [], []
        for entry in entries:
            text, digest = await issuance.status_list_document(entry["statusListCredential"].rsplit("/", 1)[-1])
            listing = json.loads(text)
            assert listing["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]
            assert schema_errors(listing, "bitstring-status-list-credential.schema.json") == []
            assert (await services.signer.verify(listing, services.resolver)).verified
            bits.append(read_value(listing, entry))
            digests.append(digest)
        return tuple(bits), digests

    before, digests_before = await value()
    assert before == (0, 0)
    await issuance.change_status(issued.id, "suspend", "pending investigation")
    suspended, digests_after = await value()
    assert suspended == (0, 1) and digests_after[1] != digests_before[1] and digests_after[0] == digests_before[0]
    with pytest.raises(ForbiddenTransition):
        await issuance.change_status(issued.id, "suspend")
    await issuance.change_status(issued.uri, "unsuspend")
    assert (await value())[0] == (0, 0)
    with pytest.raises(InvalidInput):
        await issuance.change_status(issued.id, "revoke", " ")
    await issuance.change_status(issued.id, "suspend", "again")
    await issuance.change_status(issued.id, "revoke", "fraudulent assessment")  # from suspended
    assert (await value())[0] == (1, 0)  # revoked; the suspension bit is cleared
    for action in ("unsuspend", "suspend", "revoke"):  # revocation is permanent
        with pytest.raises(ForbiddenTransition):
            await issuance.change_status(issued.id, action, "x")
    assert (await value())[0] == (1, 0)
    status = await issuance.credential_status(issued.id)
    assert status["state"] == "revoked"
    assert [(e["action"], e["reason"]) for e in status["events"]] == [
        ("suspend", "pending investigation"), ("unsuspend", None), ("suspend", "again"), ("revoke", "fraudulent assessment")]


async def test_bad_requests_are_refused_cleanly(issuance):
    with pytest.raises(NotFound):
        await issuance.issue_one("no-such-template", ROW)
    with pytest.raises(InvalidInput):
        await issuance.issue_one("intecap-albanileria-2", dict(ROW, identifier="not-an-email"))
    with pytest.raises(NotFound):
        await issuance.change_status("00000000-0000-0000-0000-000000000000", "revoke", "x")
    out_of_scope = {"id": "intecap-enfermeria-5", "institution": "intecap", "name": "Enfermería", "description": "x",
                    "sector": "health", "rqf_level": 5}
    with pytest.raises(ValidationFailed) as caught:
        await issuance.create_template(out_of_scope)
    assert len(caught.value.extensions["errors"]) == 2
    assert [t.id for t in await issuance.templates()] == ["intecap-albanileria-2"]


async def test_key_rotation_keeps_old_credentials_verifiable(issuance, services):
    old = (await issuance.issue_one("intecap-albanileria-2", ROW)).to_json()
    await issuance.rotate_key("intecap")
    new = (await issuance.issue_one("intecap-albanileria-2", dict(ROW, given_name="Ana María"))).to_json()
    assert old["proof"][0]["verificationMethod"] != new["proof"][0]["verificationMethod"]
    for doc in (old, new):
        assert (await services.signer.verify(doc, services.resolver)).verified
