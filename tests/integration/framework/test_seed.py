"""The demo seed: every framework loaded, every national mapping published and signed by its own
ministry identity, and a second run changes nothing (same bytes, same ETags)."""

from node.framework.seed import seed_demo
from node.framework.wiring import framework_service


async def test_seed_is_complete_and_idempotent(services):
    first = await seed_demo(services)
    assert set(first["frameworks"]) == {"rqf", "eqf", "gt-mnc", "co-mnc", "pe-mncp", "cl-mctp", "ie-nfq"}
    issuers = {fid: f["publication"]["issuer"] for fid, f in first["frameworks"].items() if "publication" in f}
    assert issuers["gt-mnc"] == services.keystore.ministry_did
    assert issuers["co-mnc"].endswith(":ministries:co") and issuers["ie-nfq"].endswith(":ministries:ie")

    second = await seed_demo(services)
    for fid, item in second["frameworks"].items():
        assert item["status"] == "unchanged"
        if "publication" in item:
            assert item["publication"]["new"] is False
            assert item["publication"]["sha256"] == first["frameworks"][fid]["publication"]["sha256"]

    service = framework_service(services)
    gt = await service.framework("gt-mnc")
    assert {q.code for q in gt.qualifications} >= {"GT-CON-ALB-2", "GT-SAL-CUI-3", "GT-HOS-COC-3"}
    for fid in ("gt-mnc", "co-mnc", "ie-nfq"):
        result = await service.verify((await service.publication(fid)).document, services.resolver)
        assert result.verified, result.failures
    answer = await service.resolve("gt-mnc:GT-SAL-CUI-3", "pe-mncp")
    assert answer["results"][0]["level"] == "3" and answer["results"][0]["relation"] == "close"
