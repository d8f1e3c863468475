"""Status every wallet reads (issue 8, item 6).

The finding: the DCC verifier-core (VerifierPlus, Learner Credential Wallet) reads ONE bit at
`statusListIndex` and ignores `statusSize`. With 2-bit "message" entries a revoked or suspended credential
read valid there, and a valid one read revoked when its neighbour changed. `one_bit_verdict` below is that
reader; tests/interop runs the real one from npm.

Now: a credential carries one 1-bit `revocation` entry (one object: the unmodified OB 3.0 schema holds),
and a second 1-bit `suspension` entry only where its institution turned suspension on. Each purpose has
its own list, so a status change flips exactly the one bit a 1-bit reader looks at.
"""

import json

import pytest

from node.cli import main
from node.errors import ForbiddenTransition
from node.issuance.schema import ob3_schema_errors, schema_errors
from node.issuance.status_list import LIST_SIZE, Bitstring

TEMPLATE = "intecap-albanileria-2"
ROW = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}


def entries_of(credential: dict) -> list[dict]:
    status = credential["credentialStatus"]
    return status if isinstance(status, list) else [status]


async def list_bits(issuance, url: str) -> Bitstring:
    text, _digest = await issuance.status_list_document(url.rsplit("/", 1)[-1])
    return Bitstring.decode(json.loads(text)["credentialSubject"]["encodedList"])


async def one_bit_verdict(issuance, credential: dict) -> dict[str, bool]:
    """What verifier-core reports per entry: the bit at statusListIndex, whatever statusSize says."""
    out = {}
    for entry in entries_of(credential):
        bits = await list_bits(issuance, entry["statusListCredential"])
        out[entry["statusPurpose"]] = bits.get(int(entry["statusListIndex"]))
    return out


def status_of(result) -> list[tuple[bool, str | None]]:
    return [(c.ok, c.reason) for c in result.checks if c.check == "status"]


async def test_a_new_credential_has_one_1bit_revocation_entry_and_fits_the_unmodified_ob3_schema(issuance, services):
    credential = (await issuance.issue_one(TEMPLATE, ROW)).to_json()
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict)
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert "statusSize" not in entry and "statusMessage" not in entry  # 1 bit: what every verifier reads
    assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"
    assert schema_errors(credential) == []
    text, _ = await issuance.status_list_document(entry["statusListCredential"].rsplit("/", 1)[-1])
    listing = json.loads(text)
    assert listing["credentialSubject"]["statusPurpose"] == "revocation"
    assert schema_errors(listing, "bitstring-status-list-credential.schema.json") == []
    assert Bitstring.decode(listing["credentialSubject"]["encodedList"]).entries(1) >= LIST_SIZE == 131_072
    assert (await services.signer.verify(listing, services.resolver)).verified


async def test_a_1bit_reader_sees_a_revocation_and_a_neighbour_change_flips_only_its_own_bit(issuance, verifier):
    issued = [(await issuance.issue_one(TEMPLATE, dict(ROW, given_name=f"P{i}"))).to_json() for i in range(6)]
    target, others = issued[0], issued[1:]
    url = target["credentialStatus"]["statusListCredential"]
    assert {c["credentialStatus"]["statusListCredential"] for c in issued} == {url}  # one list: neighbours
    indexes = [int(c["credentialStatus"]["statusListIndex"]) for c in issued]
    assert len(set(indexes)) == 6  # random, never colliding
    assert await one_bit_verdict(issuance, target) == {"revocation": False}

    before = await list_bits(issuance, url)
    await issuance.change_status(others[0]["id"], "revoke", "annulled")
    after = await list_bits(issuance, url)
    changed = [i for i in range(before.size) if before.get(i) != after.get(i)]
    assert changed == [indexes[1]]  # exactly the revoked credential's statusListIndex, nothing beside it
    for credential in others[1:] + [target]:
        assert await one_bit_verdict(issuance, credential) == {"revocation": False}
        assert status_of(await verifier().verify(credential)) == [(True, None)]

    await issuance.change_status(target["id"], "revoke", "fraudulent assessment")
    assert await one_bit_verdict(issuance, target) == {"revocation": True}
    assert status_of(await verifier().verify(target)) == [(False, "revoked")]


async def test_suspending_a_credential_issued_without_a_suspension_entry_is_a_clear_error(issuance, verifier):
    credential = (await issuance.issue_one(TEMPLATE, ROW)).to_json()
    before = await list_bits(issuance, credential["credentialStatus"]["statusListCredential"])
    with pytest.raises(ForbiddenTransition, match="without a suspension entry"):
        await issuance.change_status(credential["id"], "suspend", "review")
    assert (await issuance.credential_status(credential["id"]))["state"] == "active"
    after = await list_bits(issuance, credential["credentialStatus"]["statusListCredential"])
    assert after.to_bytes() == before.to_bytes()
    assert status_of(await verifier().verify(credential)) == [(True, None)]


async def test_an_institution_with_suspension_on_issues_a_second_1bit_entry_in_a_list_of_its_own(issuance, verifier):
    institution = await issuance.set_status_purposes("intecap", suspension=True)
    assert institution.status_purposes == ("revocation", "suspension")
    credential = (await issuance.issue_one(TEMPLATE, ROW, suite="eddsa-jcs-2022")).to_json()
    revocation, suspension = credential["credentialStatus"]
    assert (revocation["statusPurpose"], suspension["statusPurpose"]) == ("revocation", "suspension")
    assert revocation["statusListCredential"] != suspension["statusListCredential"]
    assert not {"statusSize", "statusMessage"} & (revocation.keys() | suspension.keys())
    # The documented trade-off: the OB 3.0 schema allows one credentialStatus object, so the array breaks it
    # as published; every entry fits it in place and our own schema check says exactly that.
    assert [e["path"] for e in schema_errors(credential)] == ["/credentialStatus"]
    assert ob3_schema_errors(credential) == []

    async def seen():
        return await one_bit_verdict(issuance, credential), status_of(await verifier().verify(credential))

    assert await seen() == ({"revocation": False, "suspension": False}, [(True, None)])
    await issuance.change_status(credential["id"], "suspend", "review")
    assert await seen() == ({"revocation": False, "suspension": True}, [(False, "suspended")])
    await issuance.change_status(credential["id"], "unsuspend")
    assert await seen() == ({"revocation": False, "suspension": False}, [(True, None)])
    await issuance.change_status(credential["id"], "suspend", "again")
    await issuance.change_status(credential["id"], "revoke", "annulled")
    assert await seen() == ({"revocation": True, "suspension": False}, [(False, "revoked")])

    # turning it off again changes new credentials only; the old one keeps its two entries
    await issuance.set_status_purposes("intecap", suspension=False)
    later = (await issuance.issue_one(TEMPLATE, dict(ROW, given_name="Rosa"))).to_json()
    assert isinstance(later["credentialStatus"], dict) and later["credentialStatus"]["statusPurpose"] == "revocation"
    assert schema_errors(later) == []


async def test_suspension_setting_over_http(client, issuance, auth_headers):
    operator = await auth_headers("operator")
    created = await client.post("/institutions", headers=operator,
                                json={"slug": "usac", "name": "USAC", "suspension": True})
    assert created.status == 201 and (await created.json())["status_purposes"] == ["revocation", "suspension"]

    issuer = await auth_headers("issuer", actor="intecap")
    other = await auth_headers("issuer", actor="usac")
    path = "/institutions/intecap/status-purposes"
    assert (await client.put(path, json={"suspension": True})).status == 401
    assert (await client.put(path, json={"suspension": True}, headers=other)).status == 403
    bad = await client.put(path, json={"suspension": "yes"}, headers=issuer)
    assert bad.status == 400 and bad.headers["Content-Type"].startswith("application/problem+json")

    plain = json.loads(await (await client.post("/credentials", headers=issuer,
                                                json=dict(ROW, template=TEMPLATE))).text())
    refused = await client.post(f"/credentials/{plain['id'].rsplit('/', 1)[-1]}/suspend", json={"reason": "x"},
                                headers=issuer)
    problem = await refused.json()
    assert refused.status == 409 and "without a suspension entry" in problem["detail"]

    turned_on = await client.put(path, json={"suspension": True}, headers=issuer)
    assert turned_on.status == 200 and (await turned_on.json())["status_purposes"] == ["revocation", "suspension"]
    listed = {i["slug"]: i["status_purposes"] for i in await (await client.get("/institutions")).json()}
    assert listed == {"intecap": ["revocation", "suspension"], "usac": ["revocation", "suspension"]}
    both = json.loads(await (await client.post("/credentials", headers=issuer,
                                               json=dict(ROW, template=TEMPLATE, given_name="Eva"))).text())
    suffix = both["id"].rsplit("/", 1)[-1]
    assert [e["statusPurpose"] for e in both["credentialStatus"]] == ["revocation", "suspension"]
    assert (await client.post(f"/credentials/{suffix}/suspend", json={"reason": "x"}, headers=issuer)).status == 200
    verdict = await (await client.post("/verify", json=both)).json()
    assert verdict["verified"] is False
    assert {c["check"]: c.get("reason") for c in verdict["checks"] if not c["ok"]} == {"status": "suspended"}


def run(node, capsys, *args):
    code = main(["--data-dir", str(node.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_suspension_setting_on_the_command_line(node, capsys, tmp_path):
    code, out, _ = run(node, capsys, "institution", "create", "--slug", "intecap", "--name", "INTECAP")
    assert code == 0 and json.loads(out)["status_purposes"] == ["revocation"]
    code, out, _ = run(node, capsys, "institution", "create", "--slug", "usac", "--name", "USAC", "--suspension")
    assert code == 0 and json.loads(out)["status_purposes"] == ["revocation", "suspension"]
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"id": "t-1", "institution": "intecap", "name": "Albañil", "description": "x"}))
    assert run(node, capsys, "template", "create", str(template))[0] == 0
    code, out, _ = run(node, capsys, "issue", "one", "--template", "t-1", "--given-name", "Ana", "--family-name", "L",
                       "--identifier", "ana@example.org")
    credential = json.loads(out)
    code, out, err = run(node, capsys, "credential", "suspend", credential["id"], "--reason", "review")
    assert code != 0 and out == "" and err.startswith("puente: ") and "without a suspension entry" in err
    assert err.count("\n") == 1

    code, out, _ = run(node, capsys, "institution", "status-purposes", "intecap", "--suspension", "on")
    assert code == 0 and json.loads(out)["status_purposes"] == ["revocation", "suspension"]
    code, out, _ = run(node, capsys, "issue", "one", "--template", "t-1", "--given-name", "Eva", "--family-name", "L",
                       "--identifier", "eva@example.org")
    second = json.loads(out)
    assert [e["statusPurpose"] for e in second["credentialStatus"]] == ["revocation", "suspension"]
    code, out, _ = run(node, capsys, "credential", "suspend", second["id"], "--reason", "review")
    assert code == 0 and json.loads(out)["state"] == "suspended"
    code, out, err = run(node, capsys, "institution", "status-purposes", "nobody", "--suspension", "off")
    assert code != 0 and err.startswith("puente: ")
