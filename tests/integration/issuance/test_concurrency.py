import asyncio
import json


async def test_concurrent_issuance_never_shares_a_status_index(issuance):
    rows = [{"given_name": f"P{i}", "family_name": "X", "identifier": f"p{i}@example.org"} for i in range(8)]
    issued = await asyncio.gather(*(issuance.issue_one("intecap-albanileria-2", row, suite="eddsa-rdfc-2022") for row in rows))
    entries = [(e["statusListCredential"], e["statusListIndex"]) for e in (i.to_json()["credentialStatus"] for i in issued)]
    assert len(set(entries)) == len(entries) == 8


async def test_concurrent_revocations_on_one_list_lose_no_bit(issuance, services):
    from node.issuance.status_list import read_value

    rows = [{"given_name": f"R{i}", "family_name": "X", "identifier": f"r{i}@example.org"} for i in range(6)]
    issued = [await issuance.issue_one("intecap-albanileria-2", row, suite="eddsa-jcs-2022") for row in rows]
    outcomes = await asyncio.gather(*(issuance.change_status(i.id, "revoke", "batch annulled") for i in issued),
                                    return_exceptions=True)
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    for credential in issued:
        entry = credential.to_json()["credentialStatus"]
        text, _ = await issuance.status_list_document(entry["statusListCredential"].rsplit("/", 1)[-1])
        assert read_value(json.loads(text), entry) == 0x1


async def test_the_same_request_issued_concurrently_gives_one_credential(issuance):
    row = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}
    results = await asyncio.gather(*(issuance.issue_one("intecap-albanileria-2", row, suite="eddsa-rdfc-2022") for _ in range(4)))
    assert len({r.id for r in results}) == 1 and sum(r.new for r in results) == 1


async def test_issuing_outside_a_narrowed_scope_is_refused(issuance):
    from node.errors import ForbiddenTransition
    import pytest

    await issuance.update_accreditation("intecap", scope={"sectors": ["hospitality"]})
    with pytest.raises(ForbiddenTransition, match="no longer accredited"):
        await issuance.issue_one("intecap-albanileria-2", {"given_name": "A", "family_name": "B", "identifier": "a@b.org"})


async def test_two_runs_of_one_batch_at_once_never_issue_twice(issuance, services, tmp_path):
    from sqlalchemy import func, select

    from node.errors import Conflict
    from node.issuance.batch import BatchIssuer, file_digest, read_rows
    from node.issuance.orm import CredentialRow

    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name,identifier\n" + "".join(f"P{i},X,p{i}@example.org\n" for i in range(30)))

    async def run():
        return await BatchIssuer(issuance).run("intecap-albanileria-2", read_rows(path), source_digest=file_digest(path),
                                               suite="eddsa-rdfc-2022", chunk_size=5)

    outcomes = await asyncio.gather(run(), run(), return_exceptions=True)
    assert all(not isinstance(o, Exception) or isinstance(o, Conflict) for o in outcomes), outcomes
    final = await run()  # whatever happened, one more run completes the set
    assert final.issued + final.skipped == 30
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(CredentialRow)) == 30
