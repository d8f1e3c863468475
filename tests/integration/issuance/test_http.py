import json

ROW = {"template": "intecap-albanileria-2", "given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}


def failed(result):
    return {c["check"]: c["reason"] for c in result["checks"] if not c["ok"]}


async def test_issue_download_verify_revoke_verify(client, issuance, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    response = await client.post("/credentials", json=ROW, headers=issuer)
    assert response.status == 201, await response.text()
    credential = json.loads(await response.text())
    suffix = credential["id"].rsplit("/", 1)[-1]

    download = await client.get(f"/credentials/{suffix}")
    assert download.status == 200 and json.loads(await download.read()) == credential
    png = await client.get(f"/credentials/{suffix}/qr.png")
    assert png.headers["Content-Type"] == "image/png" and (await png.read()).startswith(b"\x89PNG")
    svg = await client.get(f"/credentials/{suffix}/qr.svg")
    assert b"<svg" in await svg.read()
    pdf = await client.get(f"/credentials/{suffix}/credential.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and (await pdf.read()).startswith(b"%PDF-")

    verdict = await (await client.post("/verify", json=credential)).json()
    assert verdict["verified"] is True, verdict
    assert {c["check"] for c in verdict["checks"]} >= {"status", "accreditation", "schema", "validity", "issuer"}

    list_url = credential["credentialStatus"]["statusListCredential"]
    list_path = "/status/" + list_url.rsplit("/", 1)[-1]
    first = await client.get(list_path)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    assert (await client.get(list_path, headers={"If-None-Match": etag})).status == 304

    other = await auth_headers("issuer", "clerk of no institution")
    assert (await client.post(f"/credentials/{suffix}/revoke", json={"reason": "x"}, headers=other)).status == 403
    assert (await client.post(f"/credentials/{suffix}/revoke", json={"reason": "x"})).status == 401
    revoked = await client.post(f"/credentials/{suffix}/revoke", json={"reason": "assessment annulled"}, headers=issuer)
    assert revoked.status == 200 and (await revoked.json())["state"] == "revoked"

    changed = await client.get(list_path, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    verdict = await (await client.post("/verify", json=credential)).json()
    assert verdict["verified"] is False and failed(verdict) == {"status": "revoked"}
    via_qr = await (await client.get(f"/verify/{suffix}")).json()
    assert via_qr["verified"] is False and failed(via_qr) == {"status": "revoked"}
    history = await (await client.get(f"/credentials/{suffix}/status", headers=issuer)).json()
    assert history["events"][0]["reason"] == "assessment annulled"


async def test_verify_refuses_tampering_and_bad_input(client, issuance, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    credential = json.loads(await (await client.post("/credentials", json=ROW, headers=issuer)).text())
    tampered = json.loads(json.dumps(credential))
    tampered["credentialSubject"]["achievement"]["name"] = "Ingeniero civil"
    verdict = await (await client.post("/verify", json=tampered)).json()
    assert verdict["verified"] is False and any(c["check"].startswith("proof") for c in verdict["checks"] if not c["ok"])
    bad = await client.post("/verify", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status == 400 and bad.headers["Content-Type"].startswith("application/problem+json")
    missing = await client.get("/credentials/00000000-0000-0000-0000-000000000000")
    assert missing.status == 404


async def test_batch_over_http_is_idempotent(client, issuance, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    rows = [{"given_name": f"P{i}", "family_name": "X", "identifier": f"p{i}@example.org"} for i in range(4)] + [{"given_name": "Bad"}, 7]
    body = {"template": "intecap-albanileria-2", "suite": "eddsa-jcs-2022", "rows": rows}
    first = await (await client.post("/batches", json=body, headers=issuer)).json()
    assert first["issued"] == 4 and [f["line"] for f in first["failed"]] == [5, 6]
    again = await (await client.post("/batches", json=body, headers=issuer)).json()
    assert (again["issued"], again["skipped"]) == (0, 4)
    assert (await client.post("/batches", json=body)).status == 401
    wrong = await client.post("/batches", json={**body, "rows": "nope"}, headers=issuer)
    assert wrong.status == 400


async def test_seed_is_idempotent_and_public_listings(client, services):
    from node.issuance.seed import seed_demo

    first = await seed_demo(services)
    assert set(first["institutions"]) == {"intecap", "usac-microcredenciales"} and len(first["templates"]) == 3
    assert await seed_demo(services) == {"institutions": [], "templates": []}
    templates = await (await client.get("/templates")).json()
    assert {t["qualification_code"] for t in templates} == {"GT-CON-ALB-2", "GT-HOS-COC-3", "GT-SAL-CUI-3"}
    achievement = await (await client.get("/achievements/intecap-albanileria-2")).json()
    assert achievement["type"] == ["Achievement"] and achievement["humanCode"] == "GT-CON-ALB-2"


async def test_qr_target_shows_a_page_to_a_phone(client, issuance):
    issued = await issuance.issue_one("intecap-albanileria-2", {k: v for k, v in ROW.items() if k != "template"})
    page = await client.get(f"/verify/{issued.id}", headers={"Accept": "text/html,application/xhtml+xml"})
    text = await page.text()
    assert page.headers["Content-Type"].startswith("text/html") and "Credencial válida" in text and "Ana López" in text
    await issuance.change_status(issued.id, "revoke", "anulada")
    text = await (await client.get(f"/verify/{issued.id}", headers={"Accept": "text/html"})).text()
    assert "Credencial NO válida" in text and "revocada" in text


async def test_every_issuance_route_is_in_openapi(settings, services):
    from node.app import create_app
    from node.http.keys import OPENAPI_DOCUMENT
    from node.issuance import routes

    app = create_app(settings, services=services)
    paths = app[OPENAPI_DOCUMENT]["paths"]
    for route in app.router.routes():
        if route.method == "HEAD" or route.handler.__module__ != routes.__name__:
            continue
        info = route.resource.get_info()
        path = info.get("path") or info["formatter"]
        assert route.method.lower() in paths[path], path


async def test_issue_over_http_refuses_bad_bodies(client, issuance, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    for body, status in (({"given_name": "A"}, 400), ({**ROW, "identifier": "nope"}, 400),
                         ({**ROW, "suite": "rsa"}, 400), ({**ROW, "template": "nope"}, 404)):
        response = await client.post("/credentials", json=body, headers=issuer)
        assert response.status == status, (body, await response.text())
        assert response.headers["Content-Type"].startswith("application/problem+json")
