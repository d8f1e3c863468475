"""Readiness and RPL over a real HTTP server on 127.0.0.1: public reads with ETag, role-checked writes."""

import base64
import copy
import hashlib


from node.rpl.catalogue import bundled_catalogue
from node.rpl.seed import demo_answers


PROBLEM = "application/problem+json"


async def test_readiness_write_publish_and_public_read(client, auth_headers):
    ministry = await auth_headers("ministry", "MINTRAB GT")
    catalogue = dict(bundled_catalogue().document)

    denied = await client.post("/readiness/catalogues", json=catalogue)
    assert denied.status == 401 and denied.content_type == PROBLEM
    wrong_role = await client.post("/readiness/catalogues", json=catalogue, headers=await auth_headers("issuer"))
    assert wrong_role.status == 403

    # The checkpoint catalogue is regional data: read-only for ministries, loaded by the operator.
    assert (await client.post("/readiness/catalogues", json=catalogue, headers=ministry)).status == 403
    operator = await auth_headers("operator")
    loaded = await client.post("/readiness/catalogues", json=catalogue, headers=operator)
    assert loaded.status == 201 and (await loaded.json())["status"] == "loaded"
    again = await client.post("/readiness/catalogues", json=catalogue, headers=operator)
    assert again.status == 200 and (await again.json())["status"] == "unchanged"
    public_catalogue = await client.get("/readiness/catalogue")
    assert public_catalogue.status == 200 and (await public_catalogue.json())["version"] == "2026.1-draft"

    assert (await client.get("/readiness/GT")).status == 404
    recorded = await client.post("/readiness/GT/assessments", json=demo_answers("GT"), headers=ministry)
    assert recorded.status == 201
    body = await recorded.json()
    assert body["result"] == "ready" and body["recordedBy"] == "MINTRAB GT"

    published = await client.post("/readiness/GT/publish", headers=ministry)
    assert published.status == 201
    raw = await published.read()
    etag = published.headers["ETag"]
    assert etag == '"' + hashlib.sha256(raw).hexdigest() + '"'

    republished = await client.post("/readiness/GT/publish", headers=ministry)
    assert republished.status == 200 and await republished.read() == raw  # nothing new to sign

    public = await client.get("/readiness/gt")
    assert public.status == 200 and await public.read() == raw and public.headers["ETag"] == etag
    assert public.headers["Cache-Control"].startswith("public")
    unchanged = await client.get("/readiness/GT", headers={"If-None-Match": etag})
    assert unchanged.status == 304

    index = await (await client.get("/readiness")).json()
    assert [(i["jurisdiction"], i["result"]) for i in index] == [("GT", "ready")]

    draft = await client.get("/readiness/GT/assessment")
    assert draft.status == 401


async def test_readiness_validation_errors_are_problems(client, auth_headers):
    ministry = await auth_headers("ministry")
    await client.post("/readiness/catalogues", json=dict(bundled_catalogue().document), headers=await auth_headers("operator"))
    answers = demo_answers("GT")
    answers["answers"].append({"checkpoint": "free-lunch", "answer": "met"})
    answers["answers"] = [a for a in answers["answers"] if a["checkpoint"] != "appeal-procedure"]
    response = await client.post("/readiness/GT/assessments", json=answers, headers=ministry)
    assert response.status == 422 and response.content_type == PROBLEM
    problem = await response.json()
    errors = {e["error"] for e in problem["errors"]}
    assert any("unknown checkpoint 'free-lunch'" in e for e in errors)
    assert "mandatory checkpoint 'appeal-procedure' is not answered" in errors
    bad = await client.post("/readiness/GTM/assessments", json=demo_answers("GT"), headers=await auth_headers("operator"))
    assert bad.status == 400
    not_json = await client.post("/readiness/GT/assessments", data=b"{", headers={**ministry, "Content-Type": "application/json"})
    assert not_json.status == 400


async def test_rpl_case_over_http(client, auth_headers, issuance):
    issuer = await auth_headers("issuer", institution="intecap")
    assert (await client.post("/rpl/cases", json={})).status == 401
    assert (await client.post("/rpl/cases", json={}, headers=await auth_headers("ministry"))).status == 403

    opened = await client.post("/rpl/cases", headers=issuer, json={
        "institution": "intecap", "template": "intecap-albanileria-2", "givenName": "Ana", "familyName": "Pérez", "identifier": "ana@example.org"})
    assert opened.status == 201
    case = await opened.json()
    assert case["history"][0]["actor"] == "test-issuer"  # the token's subject
    url = f"/rpl/cases/{case['id']}"
    assert (await client.get(url)).status == 401  # personal data: never public

    skipped = await client.post(url + "/transitions", headers=issuer, json={"to": "assessed", "reason": "skip"})
    assert skipped.status == 409 and (await skipped.json())["type"].endswith("/forbidden-transition")
    for state in ("guidance", "eligibility", "identification", "documentation"):
        response = await client.post(url + "/transitions", headers=issuer, json={"to": state, "reason": "next"})
        assert response.status == 200
    planned = await client.post(url + "/transitions", headers=issuer, json={
        "to": "assessment_planned", "assessor": "Marta", "method": "observation", "reason": "ready"})
    assert (await planned.json())["assessment"]["assessor"] == "Marta"

    content = b"\x89PNG photo"
    added = await client.post(url + "/evidence", headers=issuer, json={
        "name": "weld.png", "mediaType": "image/png", "contentBase64": base64.b64encode(content).decode()})
    assert added.status == 201
    evidence = await added.json()
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    fetched = await client.get(f"{url}/evidence/{evidence['id']}", headers=issuer)
    assert await fetched.read() == content and fetched.content_type == "image/png"

    # The assessor acts with her own token (the actor is always the token's subject).
    marta = await auth_headers("issuer", "Marta", institution="intecap")
    assert (await client.post(url + "/transitions", headers=issuer, json={"to": "assessed", "reason": "observed"})).status == 422
    await client.post(url + "/transitions", headers=marta, json={"to": "assessed", "actor": "Marta", "reason": "observed"})
    decided = await client.post(url + "/decision", headers=marta, json={"outcome": "not_yet_competent", "reason": "gaps"})
    assert decided.status == 200
    same = await client.post(url + "/appeal", headers=issuer, json={"reviewer": "MARTA", "reason": "unfair"})
    assert same.status == 422
    appealed = await client.post(url + "/appeal", headers=issuer, json={"reviewer": "Luis", "reason": "unfair"})
    assert appealed.status == 200
    luis = await auth_headers("issuer", "Luis", institution="intecap")
    resolved = await client.post(url + "/appeal/resolution", headers=luis, json={"outcome": "upheld", "reason": "fair"})
    assert (await resolved.json())["state"] == "closed"
    shown = await (await client.get(url, headers=issuer)).json()
    assert [h["to"] for h in shown["history"]][-3:] == ["decision", "appeal", "closed"]
    listed = await (await client.get("/rpl/cases?state=closed", headers=issuer)).json()
    assert [c["id"] for c in listed] == [case["id"]]
    assert (await client.get("/rpl/cases/nope", headers=issuer)).status == 404

    # An issuer token acts for one institution only; an operator token for all.
    other = await auth_headers("issuer", "clerk of no institution")
    assert (await client.get(url, headers=other)).status == 403
    assert (await client.post(url + "/transitions", headers=other, json={"to": "closed", "reason": "x"})).status == 403
    assert (await client.get("/rpl/cases", headers=other)).status == 403  # a token without an institution sees none
    assert (await client.get("/rpl/cases?institution=intecap", headers=other)).status == 403
    foreign = await client.post("/rpl/cases", headers=other, json={
        "institution": "intecap", "template": "intecap-albanileria-2", "givenName": "Eva", "identifier": "eva@example.org"})
    assert foreign.status == 403
    operator = await auth_headers("operator")
    assert (await client.get(url, headers=operator)).status == 200
    assert len(await (await client.get("/rpl/cases", headers=operator)).json()) == 1


async def test_openapi_lists_rpl_paths(client):
    spec = await (await client.get("/openapi.json")).json()
    assert "/readiness/{jurisdiction}" in spec["paths"] and "/rpl/cases/{case_id}/decision" in spec["paths"]


async def test_verify_endpoint_refuses_tampering_and_bad_input(client, services):
    from node.rpl.seed import seed_demo

    await seed_demo(services)
    document = await (await client.get("/readiness/PE")).json()
    tampered = copy.deepcopy(document)
    tampered["credentialSubject"]["result"] = "ready"
    body = await (await client.post("/readiness/verify", json=tampered)).json()
    assert body["verified"] is False and body["errors"]
    assert (await client.post("/readiness/verify", data=b"[", headers={"Content-Type": "application/json"})).status == 400


async def test_verify_endpoint_accepts_a_published_assessment(client, services):
    from node.rpl.seed import seed_demo

    await seed_demo(services)
    document = await (await client.get("/readiness/PE")).json()
    body = await (await client.post("/readiness/verify", json=document)).json()
    assert body["verified"] is True, body
