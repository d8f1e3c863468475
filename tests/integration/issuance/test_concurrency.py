import asyncio
import json


async def test_concurrent_issuance_never_shares_a_status_index(issuance):
    rows = [{"given_name": f"P{i}", "family_name": "X", "identifier": f"p{i}@example.org"} for i in range(8)]
    issued = await asyncio.gather(*(issuance.issue_one("intecap-albanileria-2", row, suite="eddsa-rdfc-2022") for row in rows))
    entries = [(e["statusListCredential"], e["statusListIndex"]) for i in issued for e in i.to_json()["credentialStatus"]]
    assert len(set(entries)) == len(entries) == 16


async def test_concurrent_revocations_on_one_list_lose_no_bit(issuance, services):
    from node.issuance.status_list import read_status

    rows = [{"given_name": f"R{i}", "family_name": "X", "identifier": f"r{i}@example.org"} for i in range(6)]
    issued = [await issuance.issue_one("intecap-albanileria-2", row, suite="eddsa-jcs-2022") for row in rows]
    outcomes = await asyncio.gather(*(issuance.change_status(i.id, "revoke", "batch annulled") for i in issued),
                                    return_exceptions=True)
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    for credential in issued:
        entry = credential.to_json()["credentialStatus"][0]
        text, _ = await issuance.status_list_document(entry["statusListCredential"].rsplit("/", 1)[-1])
        assert read_status(json.loads(text), entry) is True
