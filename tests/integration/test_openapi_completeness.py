"""The OpenAPI document tells the truth about authentication and request bodies.

- One security scheme, `bearerAuth`, and every `security` requirement names a declared scheme.
- Behaviour decides what is protected: every route is called WITHOUT a token (path parameters filled in,
  an empty JSON object as body); an operation that answers 401 must declare `security`, and one that declares
  it must answer 401 (authentication comes before any validation, so a caller without a token learns nothing).
- Every POST/PUT/PATCH has a typed JSON request body: a schema with `properties`, not `{}` or `{"type": "object"}`.
"""

from __future__ import annotations

import re

from node.http.keys import OPENAPI_DOCUMENT

BODILESS = {("post", "/framework/{framework_id}/publish"), ("post", "/readiness/{jurisdiction}/publish")}
METHODS = ("get", "post", "put", "patch", "delete")


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


async def test_security_requirements_name_the_declared_scheme(client):
    document = await (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"bearerAuth": {"type": "http", "scheme": "bearer", "description": schemes["bearerAuth"]["description"]}}
    for method, path, operation in operations(document):
        for requirement in operation.get("security", []):
            assert set(requirement) <= set(schemes), (method, path, requirement)


async def test_protected_operations_declare_security_and_authenticate_first(client):
    document = client.server.app[OPENAPI_DOCUMENT]
    routes = {(route.method.lower(), route.resource.canonical) for route in client.server.app.router.routes()
              if route.method.lower() in METHODS}
    documented = {(method, path): operation for method, path, operation in operations(document)}
    assert routes <= set(documented), sorted(routes - set(documented))
    wrong = []
    for method, path in sorted(routes):
        url = re.sub(r"\{[^}]+\}", lambda m: "1" if "id" in m.group(0) and "evidence" in m.group(0) else "x", path)
        response = await client.request(method.upper(), url, json={} if method != "get" else None)
        declared = bool(documented[(method, path)].get("security"))
        if (response.status == 401) != declared:
            wrong.append(f"{method.upper()} {path}: answered {response.status} without a token, security declared: {declared}")
    assert wrong == [], "\n".join(wrong)


async def test_every_body_is_typed(client):
    document = await (await client.get("/openapi.json")).json()
    untyped = []
    for method, path, operation in operations(document):
        if method not in ("post", "put", "patch") or (method, path) in BODILESS:
            continue
        schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        if not schema.get("properties"):
            untyped.append(f"{method.upper()} {path}")
    assert untyped == []


async def test_bodiless_operations_declare_no_body(client):
    document = await (await client.get("/openapi.json")).json()
    for method, path in BODILESS:
        assert "requestBody" not in document["paths"][path][method]


def test_request_body_tables_name_real_operations():
    """A body schema for an operation that no longer exists is a stale document, not a harmless extra."""
    from node.app import create_app
    from node.framework.api_bodies import REQUEST_BODIES as FRAMEWORK
    from node.issuance.api_bodies import REQUEST_BODIES as ISSUANCE
    from node.rpl.api_bodies import REQUEST_BODIES as RPL
    from node.settings import Settings

    document = create_app(Settings(base_url="http://127.0.0.1:1", jurisdiction="GT"))[OPENAPI_DOCUMENT]
    for method, path in {**FRAMEWORK, **RPL, **ISSUANCE}:
        assert method in document["paths"].get(path, {}), (method, path)
