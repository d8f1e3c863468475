"""The demo seed on a configured node: four ministries, signed readiness, idempotent."""

import json


from node.rpl.seed import seed_demo


async def test_seed_publishes_signed_readiness_for_four_jurisdictions_idempotently(services):
    from node.rpl.wiring import readiness_service

    first = await seed_demo(services)
    results = {j: r["result"] for j, r in first["readiness"].items()}
    assert results == {"GT": "ready", "CO": "ready", "PE": "not_ready", "CL": "ready"}
    assert first["readiness"]["GT"]["issuer"] == services.keystore.ministry_did
    assert first["readiness"]["CO"]["issuer"].endswith(":ministries:co")

    again = await seed_demo(services)
    assert again == first  # same documents, same digests: nothing re-signed

    service = readiness_service(services)
    pe = (await service.published("PE")).document
    assert pe["credentialSubject"]["unmetMandatoryCheckpoints"] == ["access-for-migrants"]
    identities = {i["path"] for i in await services.keystore.identities()}
    assert {"ministry", "ministries/co", "ministries/pe", "ministries/cl"} <= identities
    assert json.loads((await service.published("CO")).body)["proof"][0]["verificationMethod"].startswith(first["readiness"]["CO"]["issuer"])


async def test_seeded_assessments_verify_through_the_nodes_own_did_documents(services):
    from node.rpl.wiring import readiness_service

    await seed_demo(services)
    service = readiness_service(services)
    for jurisdiction in ("GT", "CO", "PE", "CL"):
        document = (await service.published(jurisdiction)).document
        result = await service.verify(document, services.resolver)
        assert result.verified, (jurisdiction, result.to_json())
