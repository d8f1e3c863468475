"""The HTTP edge over a real server on 127.0.0.1: health, DID documents, OpenAPI, problems, caching, auth."""

from __future__ import annotations

from aiohttp import web

from node.errors import ValidationFailed
from node.http.auth import require_role
from node.http.io import document_response, read_json

PROBLEM = "application/problem+json"


async def test_health(client, settings, services):
    response = await client.get("/health")
    assert response.status == 200
    body = await response.json()
    assert body == {"status": "ok", "version": "0.1.0", "database": "ok", "jurisdiction": "GT",
                    "did": f"did:web:127.0.0.1%3A{settings.port}"}
    assert response.headers["X-Request-Id"]


async def test_node_did_document_is_served_where_did_web_says(client, settings, services):
    from node.crypto.did import did_web_to_url

    node_did = services.keystore.node_did
    assert did_web_to_url(node_did) == f"http://127.0.0.1:{settings.port}/.well-known/did.json"
    response = await client.get("/.well-known/did.json")
    assert response.status == 200
    document = await response.json()
    assert document["id"] == node_did
    assert document["verificationMethod"][0]["id"] == node_did + "#key-1"
    assert response.headers["Cache-Control"] == "public, max-age=300"


async def test_hosted_did_documents_and_unknown_path(client, services):
    did, key = await services.keystore.create_identity("institution", "INTECAP", "institutions/intecap")
    response = await client.get("/institutions/intecap/did.json")
    assert response.status == 200
    assert (await response.json())["verificationMethod"] == [key.verification_method()]
    ministry = await client.get("/ministry/did.json")
    assert (await ministry.json())["id"] == services.keystore.ministry_did
    missing = await client.get("/institutions/nobody/did.json")
    assert missing.status == 404
    assert missing.content_type == PROBLEM
    problem = await missing.json()
    assert problem["type"] == "https://puente.example/problems/not-found"
    assert "institutions/nobody" in problem["detail"]


async def test_resolver_fetches_over_real_http(client, services):
    """The node's DID document as served equals what the key store resolves locally."""
    served = await (await client.get("/.well-known/did.json")).json()
    assert served == await services.keystore.did_document(services.keystore.node_did)


async def test_etag_and_if_none_match(client):
    first = await client.get("/ministry/did.json")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and len(etag) == 66  # strong, sha256 hex
    again = await client.get("/ministry/did.json", headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag and await again.read() == b""
    weak = await client.get("/ministry/did.json", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status == 304
    changed = await client.get("/ministry/did.json", headers={"If-None-Match": '"stale"'})
    assert changed.status == 200


async def test_rotation_changes_the_etag_and_keeps_the_old_key(client, services):
    before = await client.get("/ministry/did.json")
    old_key = (await before.json())["verificationMethod"][0]
    await services.keystore.rotate(services.keystore.ministry_did)
    after = await client.get("/ministry/did.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status == 200
    document = await after.json()
    assert document["verificationMethod"][0] == old_key
    assert len(document["verificationMethod"]) == 2


async def test_openapi_document(client):
    response = await client.get("/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.1")
    for path in ("/health", "/.well-known/did.json", "/{path}/did.json", "/openapi.json"):
        assert path in document["paths"]
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


async def test_unknown_route_and_method_are_problems(client):
    response = await client.get("/no/such/thing")
    assert response.status == 404 and response.content_type == PROBLEM
    assert (await response.json())["type"] == "about:blank"
    response = await client.post("/health")
    assert response.status == 405 and response.content_type == PROBLEM
    assert "GET" in response.headers["Allow"]


# -- helpers used by capability routes, exercised on a small app with the same middlewares -------

async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"got": await read_json(request)})


async def _issuer_only(request: web.Request) -> web.Response:
    principal = await require_role(request, "issuer")
    return web.json_response(principal.to_json())


async def _invalid(request: web.Request) -> web.Response:
    raise ValidationFailed("2 rows are invalid", errors=[{"line": 2, "error": "missing name"}, {"line": 5, "error": "bad level"}])


async def _crash(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals: password=hunter2")


async def _document(request: web.Request) -> web.Response:
    return document_response(request, b'{"a":1}', max_age=60, content_type="application/ld+json")


async def _test_app(aiohttp_client, settings, services):
    from node.app import create_app

    app = create_app(settings, services=services)
    app.router.add_post("/t/echo", _echo)
    app.router.add_post("/t/issuer", _issuer_only)
    app.router.add_get("/t/invalid", _invalid)
    app.router.add_get("/t/crash", _crash)
    app.router.add_get("/t/document", _document)
    return await aiohttp_client(app)


async def test_read_json(aiohttp_client, settings, services):
    client = await _test_app(aiohttp_client, settings, services)
    ok = await client.post("/t/echo", json={"x": 1})
    assert ok.status == 200 and (await ok.json()) == {"got": {"x": 1}}
    for body, headers in ((b"{not json", {"Content-Type": "application/json"}),
                          (b'{"x": 1}', {"Content-Type": "text/plain"}),
                          (b"", {"Content-Type": "application/json"})):
        bad = await client.post("/t/echo", data=body, headers=headers)
        assert bad.status == 400 and bad.content_type == PROBLEM
        assert (await bad.json())["type"] == "https://puente.example/problems/invalid-input"


async def test_auth_401_403_and_operator(aiohttp_client, settings, services, auth_headers):
    client = await _test_app(aiohttp_client, settings, services)
    missing = await client.post("/t/issuer")
    assert missing.status == 401 and missing.content_type == PROBLEM
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = await client.post("/t/issuer", headers={"Authorization": "Bearer pnt_nope"})
    assert unknown.status == 401
    wrong_role = await client.post("/t/issuer", headers=await auth_headers("ministry"))
    assert wrong_role.status == 403
    assert (await wrong_role.json())["type"] == "https://puente.example/problems/forbidden"
    issuer = await client.post("/t/issuer", headers=await auth_headers("issuer", "Ana López"))
    assert issuer.status == 200 and (await issuer.json()) == {"subject": "Ana López", "role": "issuer", "scope": None}
    operator = await client.post("/t/issuer", headers=await auth_headers("operator"))
    assert operator.status == 200


async def test_revoked_token_is_refused(aiohttp_client, settings, services, auth_headers):
    from node.tokens import revoke_token

    client = await _test_app(aiohttp_client, settings, services)
    headers = await auth_headers("issuer")
    assert (await client.post("/t/issuer", headers=headers)).status == 200
    async with services.uow() as uow:
        await revoke_token(uow, services.clock, headers["Authorization"].split()[1])
    assert (await client.post("/t/issuer", headers=headers)).status == 401


async def test_validation_problem_carries_row_errors(aiohttp_client, settings, services):
    client = await _test_app(aiohttp_client, settings, services)
    response = await client.get("/t/invalid")
    assert response.status == 422 and response.content_type == PROBLEM
    problem = await response.json()
    assert problem["errors"][1] == {"line": 5, "error": "bad level"}
    assert problem["instance"] == "/t/invalid"


async def test_unexpected_error_is_a_500_problem_without_internals(aiohttp_client, settings, services, caplog):
    client = await _test_app(aiohttp_client, settings, services)
    response = await client.get("/t/crash")
    assert response.status == 500 and response.content_type == PROBLEM
    text = await response.text()
    assert "hunter2" not in text and "RuntimeError" not in text and "Traceback" not in text
    assert response.headers["X-Request-Id"] in (await response.json())["detail"]


async def test_document_response_content_type_and_304(aiohttp_client, settings, services):
    client = await _test_app(aiohttp_client, settings, services)
    first = await client.get("/t/document")
    assert first.content_type == "application/ld+json" and await first.read() == b'{"a":1}'
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert (await client.get("/t/document", headers={"If-None-Match": "*"})).status == 304
