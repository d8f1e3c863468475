"""Readiness on a real database: catalogue versions, recording, signing, publishing, verifying."""

import copy
import hashlib

import pytest

from node.errors import Conflict, NotFound, ValidationFailed
from node.rpl.catalogue import bundled_catalogue


CATALOGUE = bundled_catalogue()
EVIDENCE = [{"description": "Ley 1/2020", "url": "https://gob.example/ley"}]


def answers(**overrides):
    items = []
    for c in CATALOGUE.checkpoints:
        value = overrides.get(c.id, "met")
        item = {"checkpoint": c.id, "answer": value}
        if value in ("met", "partially_met"):
            item["supportingEvidence"] = EVIDENCE
        items.append(item)
    return {"answers": items}


async def test_catalogue_versions_load_once_and_cannot_be_rewritten(rpl):
    service, _, _ = rpl
    assert (await service.load_catalogue(CATALOGUE))["status"] == "loaded"
    assert (await service.load_catalogue(dict(CATALOGUE.document)))["status"] == "unchanged"
    changed = copy.deepcopy(dict(CATALOGUE.document))
    changed["checkpoints"][0]["mandatory"] = False
    with pytest.raises(Conflict, match="new version"):
        await service.load_catalogue(changed)
    changed["version"] = "2027.1"
    assert (await service.load_catalogue(changed))["status"] == "loaded"
    assert (await service.catalogue()).version == "2027.1"  # newest loaded is the default
    assert (await service.catalogue(version="2026.1-draft")).version == "2026.1-draft"
    assert [c["version"] for c in await service.catalogues()] == ["2026.1-draft", "2027.1"]


async def test_record_without_a_catalogue_is_a_clear_error(rpl):
    service, _, _ = rpl
    with pytest.raises(NotFound, match="catalogue load"):
        await service.record("GT", answers(), recorded_by="ministry")


async def test_record_and_publish(rpl, clock):
    service, keys, _ = rpl
    await service.load_catalogue(CATALOGUE)
    summary = await service.record("gt", answers(), recorded_by="ministry")
    assert summary["result"] == "ready" and summary["published"] is None

    published = await service.publish("GT")
    assert published.sha256 == hashlib.sha256(published.body).hexdigest()
    document = published.document
    assert document["issuer"] == "did:web:gt.example:ministry"
    assert document["credentialSubject"]["result"] == "ready"
    assert isinstance(document["proof"], list) and document["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"
    assert published.new
    again = await service.publish("GT")
    assert again.body == published.body and not again.new  # publishing again is idempotent
    assert (await service.published("GT")).sha256 == published.sha256
    assert (await service.show("GT"))["published"]["sha256"] == published.sha256


async def test_published_assessment_verifies_and_tampering_fails(rpl):
    service, keys, _ = rpl
    await service.load_catalogue(CATALOGUE)
    await service.record("GT", answers(), recorded_by="ministry")
    document = (await service.publish("GT")).document
    result = await service.verify(document, keys.resolver())
    assert result.verified, result.to_json()

    tampered = copy.deepcopy(document)
    tampered["credentialSubject"]["answers"][8]["answer"] = "not_met"
    result = await service.verify(tampered, keys.resolver())
    assert not result.verified
    assert any(c.reason == "invalid_signature" or "signature" in c.check for c in result.failures), result.to_json()


async def test_a_signed_lie_about_the_result_fails_verification(rpl):
    """Even correctly signed, "ready" with an unmet mandatory checkpoint is refused by the rule check."""
    from node.rpl.readiness import build_credential, parse_answers

    service, keys, _ = rpl
    await service.load_catalogue(CATALOGUE)
    key = await keys("PE")
    credential = build_credential(jurisdiction="PE", catalogue=CATALOGUE,
                                  answers=parse_answers(answers(**{"access-for-migrants": "not_met"}), CATALOGUE),
                                  issuer=key.controller, credential_id="urn:uuid:1", issued_at=service._clock.now())
    credential["credentialSubject"]["result"] = "ready"
    credential["credentialSubject"]["unmetMandatoryCheckpoints"] = []
    from node.crypto.data_integrity import add_proof

    signed = add_proof(credential, key, suite="eddsa-jcs-2022", array=True)
    result = await service.verify(signed, keys.resolver())
    assert not result.verified
    assert [c.reason for c in result.failures] == ["result_mismatch"]


async def test_not_ready_and_unknown_checkpoints(rpl):
    service, _, _ = rpl
    await service.load_catalogue(CATALOGUE)
    summary = await service.record("PE", answers(**{"access-for-migrants": "not_applicable"}), recorded_by="ministry")
    assert summary["result"] == "not_ready" and summary["unmetMandatoryCheckpoints"] == ["access-for-migrants"]
    bad = answers()
    bad["answers"].append({"checkpoint": "nope", "answer": "met", "supportingEvidence": EVIDENCE})
    with pytest.raises(ValidationFailed, match="problem"):
        await service.record("PE", bad, recorded_by="ministry")
    assert (await service.show("PE"))["result"] == "not_ready"  # the refused answers left nothing behind


async def test_a_new_recording_needs_a_new_publication(rpl, clock):
    service, _, _ = rpl
    await service.load_catalogue(CATALOGUE)
    await service.record("CO", answers(**{"appeal-procedure": "partially_met"}), recorded_by="ministry")
    first = await service.publish("CO")
    clock.advance(days=30)
    await service.record("CO", answers(), recorded_by="ministry")
    assert (await service.published("CO")).sha256 == first.sha256  # recorded, not yet published
    second = await service.publish("CO")
    assert second.sha256 != first.sha256 and second.document["credentialSubject"]["result"] == "ready"
    assert (await service.published("CO")).sha256 == second.sha256
    index = await service.published_index()
    assert [(i["jurisdiction"], i["result"]) for i in index] == [("CO", "ready")]


@pytest.mark.parametrize("code", ["", "GTM", "1A", None])
async def test_bad_jurisdiction_codes(rpl, code):
    from node.errors import InvalidInput

    service, _, _ = rpl
    with pytest.raises(InvalidInput, match="ISO 3166"):
        await service.show(code)


async def test_concurrent_publication_stores_one_document(rpl):
    import asyncio

    service, _, _ = rpl
    await service.load_catalogue(CATALOGUE)
    await service.record("GT", answers(), recorded_by="ministry")
    first, second = await asyncio.gather(service.publish("GT"), service.publish("GT"))
    assert first.body == second.body
    assert (await service.published("GT")).sha256 == first.sha256
