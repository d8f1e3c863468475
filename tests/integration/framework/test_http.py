"""Frameworks over a real HTTP server on 127.0.0.1: public reads (publications with ETag), ministry writes."""

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "node" / "framework" / "data"
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
PROBLEM = "application/problem+json"


def data(name):
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


async def test_ministry_writes_and_public_reads(client, auth_headers):
    ana = await auth_headers("ministry", "Ana López")
    carlos = await auth_headers("ministry", "Carlos Pérez")
    rqf = data("rqf-2026.1-draft")

    assert (await client.post("/framework/import", json=rqf)).status == 401
    assert (await client.post("/framework/import", json=rqf, headers=await auth_headers("issuer"))).status == 403
    assert (await client.post("/framework/import", json=rqf, headers=ana)).status == 403  # the RQF is regional: operator only
    operator = await auth_headers("operator")
    created = await client.post("/framework/import", json=rqf, headers=operator)
    assert created.status == 201 and (await created.json())["status"] == "created"
    assert (await client.post("/framework/import", json=rqf, headers=operator)).status == 200

    # Over HTTP an import file cannot approve rows (approval is a second person's token): the example's
    # one approved row is refused until its approved_by cell is left empty.
    example = (EXAMPLES / "framework-import.csv").read_bytes()
    with_approval = await client.post("/framework/import", data=example, headers={**ana, "Content-Type": "text/csv"})
    assert with_approval.status == 422 and "approv" in (await with_approval.json())["errors"][0]["error"]
    csv_body = example.replace("Ana López,Carlos Pérez,".encode(), "Ana López,,".encode())
    imported = await client.post("/framework/import", data=csv_body, headers={**ana, "Content-Type": "text/csv"})
    assert imported.status == 201, await imported.text()

    bad = csv_body.decode().replace(",7112,", ",99,").encode()
    refused = await client.post("/framework/import", data=bad, headers={**ana, "Content-Type": "text/csv"})
    assert refused.status == 422 and refused.content_type == PROBLEM
    assert (await refused.json())["errors"] == [{"line": 6, "column": "isco", "error": "an ISCO-08 code is four digits (unit group), e.g. 7112"}]

    listed = await (await client.get("/framework")).json()
    assert [f["id"] for f in listed] == ["rqf", "xx-mnc"]
    levels = await (await client.get("/framework/rqf/levels")).json()
    assert len(levels) == 8 and set(levels[0]["descriptors"]) == {"knowledge", "skills", "autonomy"}
    level = await (await client.get("/framework/rqf/levels/4")).json()
    assert level["descriptors"]["autonomy"]["pt"]
    assert (await client.get("/framework/rqf/levels/9")).status == 404
    quals = await (await client.get("/framework/xx-mnc/qualifications?sector=hospitality")).json()
    assert [q["code"] for q in quals] == ["XX-HOS-COC-3"]
    qual = await (await client.get("/framework/xx-mnc/qualifications/XX-CON-ALB-2")).json()
    assert qual["isco"] == "7112" and qual["level"] == "2"

    # Map as Ana, approve as Carlos (the approver is the token's subject); Ana cannot approve her own rows.
    mapped = await client.post("/framework/xx-mnc/mappings", headers=ana,
                               json={"target": "rqf", "from": {"level": "2"}, "to": "2", "relation": "exact", "rationale": "revisado"})
    assert mapped.status == 201 and (await mapped.json())["row"]["author"] == "Ana López"
    own = await client.post("/framework/xx-mnc/approve", headers=ana, json={})
    assert own.status == 409 and own.content_type == PROBLEM
    assert (await client.post("/framework/xx-mnc/publish", headers=ana)).status == 422
    approved = await client.post("/framework/xx-mnc/approve", headers=carlos, json={})
    assert approved.status == 200 and (await approved.json())["approver"] == "Carlos Pérez"

    assert (await client.get("/framework/xx-mnc/publication")).status == 404
    published = await client.post("/framework/xx-mnc/publish", headers=ana)
    assert published.status == 201
    body = await published.read()
    assert (await client.post("/framework/xx-mnc/publish", headers=ana)).status == 200

    public = await client.get("/framework/xx-mnc/publication")
    assert public.status == 200 and await public.read() == body
    etag = public.headers["ETag"]
    assert (await client.get("/framework/xx-mnc/publication", headers={"If-None-Match": etag})).status == 304
    versioned = await client.get("/framework/xx-mnc/publications/rqf/1")
    assert await versioned.read() == body
    assert (await client.get("/framework/xx-mnc/publications/rqf/x")).status == 400
    index = await (await client.get("/framework/xx-mnc/publications")).json()
    assert index[0]["sha256"] == etag.strip('"')

    verified = await client.post("/framework/verify", data=body, headers={"Content-Type": "application/json"})
    assert (await verified.json())["verified"] is True
    tampered = json.loads(body)
    tampered["credentialSubject"]["framework"]["levels"][0]["level"] = "0"
    assert (await (await client.post("/framework/verify", json=tampered)).json())["verified"] is False

    resolved = await client.get("/framework/resolve", params={"from": "xx-mnc:XX-CON-ALB-2", "to": "rqf"})
    answer = await resolved.json()
    assert resolved.status == 200 and answer["results"][0]["level"] == "2" and answer["results"][0]["relation"] == "exact"
    missing = await client.get("/framework/resolve", params={"from": "rqf:2", "to": "xx-mnc"})
    assert missing.status == 200  # rqf 2 ← xx-mnc 2, read backwards
    nothing = await client.get("/framework/resolve", params={"from": "xx-mnc:1", "to": "nope"})
    assert nothing.status == 404 and nothing.content_type == PROBLEM

    exported = await client.get("/framework/xx-mnc/export?format=csv")
    assert exported.content_type == "text/csv" and (await exported.text()).startswith("record,")
    mappings = await (await client.get("/framework/xx-mnc/mappings")).json()
    assert [(m["version"], m["status"]) for m in mappings] == [(1, "published")]
    one = await (await client.get("/framework/xx-mnc/mappings/rqf/1")).json()
    assert one["rows"][1]["approvedBy"] == "Carlos Pérez"


async def test_every_framework_route_is_in_the_openapi_document(client):
    from node.framework.routes import OPENAPI, routes

    for route in routes:
        assert route.path in OPENAPI and route.method.lower() in OPENAPI[route.path], route.path


async def test_accepting_a_peers_publication_over_http(client, auth_headers, services):
    """Sign co-mnc as Colombia's ministry hosted here, drop it, and post the bytes back as a peer would."""
    from node.framework.seed import seed_demo

    ministry = await auth_headers("ministry", "MINTRAB GT")
    await seed_demo(services)
    body = await (await client.get("/framework/co-mnc/publication")).read()
    assert (await client.post("/framework/publications", data=body, headers={"Content-Type": "application/json"})).status == 401
    again = await client.post("/framework/publications", data=body, headers={**ministry, "Content-Type": "application/json"})
    assert again.status == 200 and (await again.json())["status"] == "unchanged"
    tampered = body.replace(b'"relation": "exact"', b'"relation": "close"', 1)
    refused = await client.post("/framework/publications", data=tampered, headers={**ministry, "Content-Type": "application/json"})
    assert refused.status == 422 and refused.content_type == PROBLEM
