"""Framework use cases on SQLite and PostgreSQL: import all-or-nothing, versioned mappings, second-person
approval, signed publication (sign → verify → tamper fails), resolve over published mappings only."""

import copy
import json

import pytest

from node.errors import Conflict, ForbiddenTransition, NotFound, ValidationFailed
from node.framework.publication import load_schema

GT = "seed/gt-mnc"


def row(level, to, author="Ana", relation="exact"):
    return {"from": {"level": str(level)}, "to": str(to), "relation": relation, "rationale": "same descriptors", "author": author}


async def test_an_invalid_file_imports_nothing(fw, load):
    service, _ = fw
    await load("rqf-2026.1-draft")
    doc = json.loads((await service.export("rqf", "json")))
    assert doc["framework"]["id"] == "rqf"
    bad = {"framework": {"id": "xx-mnc", "version": "1", "jurisdiction": "GT", "title": {"es": "X"}, "levels": [{"level": "1"}]},
           "qualifications": [{"code": "A", "title": {"es": "a"}, "level": "1", "isco": "12"}],
           "mappings": [{"target": {"id": "rqf"}, "rows": [row(1, 1)]}]}
    with pytest.raises(ValidationFailed) as caught:
        await service.import_text(json.dumps(bad), "json")
    assert caught.value.extensions["errors"][0]["path"] == "qualifications[0].isco"
    assert [f["id"] for f in await service.frameworks()] == ["rqf"]
    with pytest.raises(NotFound):
        await service.mappings("xx-mnc")


async def test_importing_twice_changes_nothing_and_a_published_version_cannot_change(fw, load):
    service, _ = fw
    await load("rqf-2026.1-draft", GT)
    text = (await service.export("gt-mnc", "json"))
    again = await service.import_text(text, "json")
    assert again["status"] == "unchanged" and again["mappings"][0]["change"] == "unchanged"
    await service.publish("gt-mnc")
    changed = json.loads(text)
    changed["qualifications"][0]["title"]["es"] = "Albañilería y acabados"
    with pytest.raises(Conflict, match="new version"):
        await service.import_text(json.dumps(changed), "json")
    changed["framework"]["version"] = "2026.1"
    summary = await service.import_text(json.dumps(changed), "json")
    assert summary["status"] == "created" and summary["mappings"][0]["version"] == 2
    assert (await service.framework("gt-mnc")).version == "2026.1"
    assert (await service.framework("gt-mnc", "2025.1")).qualification("GT-CON-ALB-2").title["es"] == "Albañilería"


async def test_map_approve_publish_with_a_second_person(fw, load):
    service, keys = fw
    await load("rqf-2026.1-draft")
    framework = {"framework": {"id": "xx-mnc", "version": "1", "jurisdiction": "GT", "title": {"es": "X"},
                               "levels": [{"level": "1"}, {"level": "2"}, {"level": "3"}]}}
    await service.import_text(json.dumps(framework), "json")
    await service.map("xx-mnc", "rqf", row(1, 1))
    await service.map("xx-mnc", "rqf", row(2, 3, relation="partial"))
    with pytest.raises(ValidationFailed, match="levels not mapped"):
        await service.publish("xx-mnc")
    await service.map("xx-mnc", "rqf", {"from": {"level": "3"}, "relation": "none", "rationale": "no counterpart", "author": "Luis"})
    with pytest.raises(ValidationFailed, match="awaiting approval"):
        await service.publish("xx-mnc")
    with pytest.raises(ForbiddenTransition, match="second person"):
        await service.approve("xx-mnc", "ana")  # Ana wrote levels 1 and 2
    approved = await service.approve("xx-mnc", "Luis", level="1")
    assert approved["approved"] == ["level 1"] and approved["awaitingApproval"] == 2
    await service.approve("xx-mnc", "Luis", level="2")
    await service.approve("xx-mnc", "Ana", level="3")
    with pytest.raises(ValidationFailed):
        await service.map("xx-mnc", "rqf", row(9, 1))  # unknown level
    with pytest.raises(ValidationFailed):
        await service.map("xx-mnc", "rqf", row(1, 12))  # unknown RQF level

    published = await service.publish("xx-mnc")
    assert published.new
    document = published.document
    assert document["issuer"] == keys.keys["GT"].controller
    assert document["credentialSubject"]["mapping"]["version"] == 1
    assert [r["approvedBy"] for r in document["credentialSubject"]["mapping"]["rows"]] == ["Luis", "Luis", "Ana"]
    again = await service.publish("xx-mnc")
    assert not again.new and again.body == published.body

    # Published is immutable: approving is refused; a change opens version 2, version 1 stays served.
    with pytest.raises(ForbiddenTransition, match="immutable"):
        await service.approve("xx-mnc", "Luis")
    changed = await service.map("xx-mnc", "rqf", row(2, 2, relation="close"))
    assert changed["version"] == 2 and changed["status"] == "draft"
    assert (await service.publication("xx-mnc")).body == published.body  # the draft is not published
    await service.approve("xx-mnc", "Luis")
    second = await service.publish("xx-mnc")
    assert second.document["credentialSubject"]["mapping"]["version"] == 2
    assert (await service.publication("xx-mnc", "rqf", 1)).body == published.body
    assert (await service.publication("xx-mnc")).body == second.body
    assert [(m["version"], m["status"]) for m in await service.mappings("xx-mnc")] == [(1, "published"), (2, "published")]


async def test_publication_signs_verifies_and_tampering_fails(fw, load):
    import jsonschema

    service, keys = fw
    await load("rqf-2026.1-draft", GT)
    published = await service.publish("gt-mnc")
    document = published.document
    jsonschema.validate(document, load_schema())
    assert document["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"
    subject = document["credentialSubject"]
    assert subject["framework"]["id"] == "gt-mnc" and subject["mapping"]["target"]["id"] == "rqf"
    assert {q["code"] for q in subject["qualifications"]} >= {"GT-CON-ALB-2", "GT-SAL-CUI-3", "GT-HOS-COC-3"}
    result = await service.verify(document, keys.resolver())
    assert result.verified, result.failures

    tampered = copy.deepcopy(document)
    tampered["credentialSubject"]["mapping"]["rows"][1]["to"] = "3"
    result = await service.verify(tampered, keys.resolver())
    assert not result.verified and "bad_signature" in {c.reason for c in result.failures}

    unknown_signer = copy.deepcopy(document)
    from node.crypto.did import DidResolver
    assert not (await service.verify(unknown_signer, DidResolver(documents={}))).verified


async def test_resolve_follows_published_mappings_only(fw, load):
    service, _ = fw
    await load()
    with pytest.raises(NotFound, match="no mapping"):
        await service.resolve("ie-nfq:7", "eqf")  # imported, not yet published
    await service.publish("ie-nfq")
    answer = await service.resolve("ie-nfq:7", "eqf")
    assert [r["level"] for r in answer["results"]] == ["6"]
    await service.publish("gt-mnc")
    with pytest.raises(NotFound):
        await service.resolve("gt-mnc:GT-CON-ALB-2", "co-mnc")
    await service.publish("co-mnc")
    result = (await service.resolve("gt-mnc:GT-CON-ALB-2", "co-mnc"))["results"][0]
    assert result["level"] == "2" and result["via"] == ["rqf:2"]


async def test_export_csv_imports_back(fw, load):
    service, _ = fw
    await load("rqf-2026.1-draft", GT)
    csv_text = await service.export("gt-mnc", "csv")
    assert csv_text.splitlines()[0].startswith("record,")
    summary = await service.import_text(csv_text, "csv")
    assert summary["status"] == "unchanged" and summary["mappings"][0]["change"] == "unchanged"


async def test_concurrent_changes_to_one_draft_never_lose_a_row(fw, load):
    import asyncio

    service, _ = fw
    await load("rqf-2026.1-draft", GT)
    outcomes = await asyncio.gather(service.map("gt-mnc", "rqf", row(4, 5, author="Rosa")),
                                    service.map("gt-mnc", "rqf", row(5, 6, author="Rosa")), return_exceptions=True)
    assert all(o is None or isinstance(o, (dict, Conflict)) for o in outcomes), outcomes
    rows = {r["from"]["level"]: r["to"] for r in (await service.mapping("gt-mnc", "rqf"))["rows"] if "level" in r["from"]}
    for outcome, (level, to) in zip(outcomes, (("4", "5"), ("5", "6"))):
        if isinstance(outcome, dict):  # a change reported as saved is in the stored draft
            assert rows[level] == to


async def test_rows_carried_into_a_new_framework_version_must_still_fit(fw, load):
    service, _ = fw
    await load("rqf-2026.1-draft", GT)
    await service.publish("gt-mnc")
    doc = json.loads(await service.export("gt-mnc", "json"))
    doc["framework"]["version"] = "2026.1"
    doc["framework"]["levels"] = doc["framework"]["levels"][:4]  # level 5 dropped
    doc["qualifications"] = [q for q in doc["qualifications"] if q["level"] != "5"]
    del doc["mappings"]
    await service.import_text(json.dumps(doc), "json")
    with pytest.raises(ValidationFailed, match="unknown level 5 in gt-mnc@2026.1"):
        await service.map("gt-mnc", "rqf", row(1, 1))



@pytest.fixture
async def peer_store(db_url, clock, fw):
    """PeerPublications over the same database, and a way to forget a framework (as if never seen here)."""
    from sqlalchemy import delete

    from node.db.engine import make_engine, make_session_factory
    from node.db.uow import UnitOfWork
    from node.framework import repository as repo
    from node.framework.orm import FrameworkPublicationRow, FrameworkVersionRow, MappingVersionRow
    from node.framework.peers import PeerPublications
    from node.settings import normalise_database_url

    engine = make_engine(normalise_database_url(db_url))
    factory = make_session_factory(engine)

    async def forget(framework_id):
        async with UnitOfWork(factory) as uow:
            pks = [m.id for m in await repo.mapping_rows(uow.session, framework_id)]
            await uow.session.execute(delete(FrameworkPublicationRow).where(FrameworkPublicationRow.mapping_pk.in_(pks)))
            await uow.session.execute(delete(MappingVersionRow).where(MappingVersionRow.framework_id == framework_id))
            await uow.session.execute(delete(FrameworkVersionRow).where(FrameworkVersionRow.framework_id == framework_id))
            await uow.commit()

    try:
        yield PeerPublications(lambda: UnitOfWork(factory), clock, fw[0].verify), forget
    finally:
        await engine.dispose()


async def test_a_peers_publication_is_verified_then_stored_verbatim(fw, load, peer_store, clock):
    """co-mnc is published (as by Colombia's node), forgotten here, then accepted back from its bytes."""
    from node.crypto.did import DidResolver
    from node.crypto.signer import DocumentSigner
    from node.framework.publication import sign_publication

    service, keys = fw
    peers, forget = peer_store
    await load("rqf-2026.1-draft", GT, "seed/co-mnc")
    body = (await service.publish("co-mnc")).body
    await service.publish("gt-mnc")
    await forget("co-mnc")
    with pytest.raises(NotFound):
        await service.resolve("gt-mnc:GT-CON-ALB-2", "co-mnc")

    tampered = json.loads(body)
    tampered["credentialSubject"]["mapping"]["rows"][0]["to"] = "2"
    with pytest.raises(ValidationFailed, match="does not verify"):
        await peers.accept(json.dumps(tampered).encode(), keys.resolver())
    with pytest.raises(ValidationFailed):
        await peers.accept(body, DidResolver(documents={}))  # unknown signer: refused
    assert [f["id"] for f in await service.frameworks()] == ["gt-mnc", "rqf"]  # nothing stored

    accepted = await peers.accept(body, keys.resolver())
    assert accepted["status"] == "accepted" and accepted["issuer"] == keys.keys["CO"].controller
    assert (await peers.accept(body, keys.resolver()))["status"] == "unchanged"
    assert (await service.publication("co-mnc")).body == body  # verbatim
    assert (await service.resolve("gt-mnc:GT-CON-ALB-2", "co-mnc"))["results"][0]["level"] == "2"

    # Another issuer cannot take co-mnc over; a peer cannot replace a framework maintained here.
    other = json.loads(body)
    del other["proof"]
    other["issuer"] = (await keys("PE")).controller
    other["credentialSubject"]["mapping"]["version"] = 2
    signer = DocumentSigner(workers=1)
    try:
        signed = await sign_publication(signer, other, await keys("PE"), clock.now())
        await service.map("gt-mnc", "rqf", row(5, 5, author="Rosa"))  # gt-mnc now has a local draft
        gt = json.loads((await service.publication("gt-mnc")).body)
        del gt["proof"]
        gt["issuer"] = (await keys("PE")).controller
        gt_signed = await sign_publication(signer, gt, await keys("PE"), clock.now())
    finally:
        signer.close()
    with pytest.raises(Conflict, match="refusing a publication by"):
        await peers.accept(json.dumps(signed).encode(), keys.resolver())
    with pytest.raises(Conflict, match="maintained on this node"):
        await peers.accept(json.dumps(gt_signed).encode(), keys.resolver())
