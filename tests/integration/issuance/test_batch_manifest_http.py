"""HTTP batches say what they issued: the batch id and each row's credential id in the response, and a
paged, institution-scoped GET /batches/{id}/credentials (SQLite and PostgreSQL)."""

from __future__ import annotations

ROWS = [{"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"},
        {"given_name": "Sin", "family_name": "Identificador", "identifier": ""},
        {"given_name": "Bo", "family_name": "Ng", "identifier": "bo@example.org"},
        {"given_name": "Eva", "family_name": "Ruiz", "identifier": "eva@example.org"}]


async def test_post_batches_returns_the_batch_id_and_credential_ids(client, issuance, auth_headers):
    headers = await auth_headers("issuer", institution="intecap")
    body = {"template": "intecap-albanileria-2", "suite": "eddsa-jcs-2022", "rows": ROWS}
    response = await client.post("/batches", json=body, headers=headers)
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["issued"] == 3 and [f["line"] for f in result["failed"]] == [2]
    assert [(c["line"], c["new"]) for c in result["credentials"]] == [(1, True), (3, True), (4, True)]
    for credential in result["credentials"]:
        fetched = await client.get("/credentials/" + credential["id"].rsplit("/", 1)[-1])
        assert fetched.status == 200 and (await fetched.json())["id"] == credential["id"]

    progress = await (await client.get(f"/batches/{result['batch']}", headers=headers)).json()
    assert progress["batch"] == result["batch"]

    again = await (await client.post("/batches", json=body, headers=headers)).json()  # resumed: same ids, none new
    assert again["batch"] == result["batch"]
    assert [(c["id"], c["new"]) for c in again["credentials"]] == [(c["id"], False) for c in result["credentials"]]


async def test_batch_credentials_are_paged(client, issuance, auth_headers):
    headers = await auth_headers("issuer", institution="intecap")
    result = await (await client.post("/batches", json={"template": "intecap-albanileria-2", "suite": "eddsa-jcs-2022",
                                                        "rows": ROWS}, headers=headers)).json()
    url = f"/batches/{result['batch']}/credentials"
    first = await (await client.get(url, params={"limit": "2"}, headers=headers)).json()
    assert first["total"] == 3 and len(first["items"]) == 2
    second = await (await client.get(url, params={"offset": "2", "limit": "2"}, headers=headers)).json()
    listed = first["items"] + second["items"]
    assert [(i["line"], i["id"], i["state"]) for i in listed] == [(c["line"], c["id"], "active") for c in result["credentials"]]
    for bad in ({"limit": "0"}, {"limit": "5000"}, {"offset": "-1"}, {"offset": "x"}):
        response = await client.get(url, params=bad, headers=headers)
        assert response.status == 400 and response.content_type == "application/problem+json", bad


async def test_batch_credentials_are_scoped_to_the_institution(client, issuance, auth_headers):
    await issuance.create_institution("usac", "USAC", scope={"sectors": ["construction"]})
    headers = await auth_headers("issuer", institution="intecap")
    result = await (await client.post("/batches", json={"template": "intecap-albanileria-2", "suite": "eddsa-jcs-2022",
                                                        "rows": ROWS[:1]}, headers=headers)).json()
    url = f"/batches/{result['batch']}/credentials"
    assert (await client.get(url)).status == 401
    other = await client.get(url, headers=await auth_headers("issuer", actor="usac"))
    assert other.status == 404 and "ana" not in (await other.text()).lower()
    assert (await client.get(url, headers=await auth_headers("operator"))).status == 200
    assert (await client.get("/batches/nope/credentials", headers=headers)).status == 404
