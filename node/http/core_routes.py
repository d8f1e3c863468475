"""Core public routes: health, the node's DID document and the DID documents of hosted identities."""

from __future__ import annotations

from aiohttp import web

from node import __version__
from node.db.engine import ping
from node.errors import NotFound, PuenteError
from node.http.readiness import readiness
from node.http.home import OPENAPI as HOME_OPENAPI
from node.http.home import home
from node.http.io import document_response
from node.http.keys import OPENAPI_DOCUMENT, SERVICES

DID_MAX_AGE = 300


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    database_ok = await ping(services.engine)
    body = {
        "status": "ok" if database_ok else "degraded",
        "version": __version__,
        "database": "ok" if database_ok else "unreachable",
        "jurisdiction": services.settings.jurisdiction,
        "did": services.keystore.node_did,
    }
    return web.json_response(body, status=200 if database_ok else 503, headers={"Cache-Control": "no-store"})


async def livez(_request: web.Request) -> web.Response:
    """Liveness: the process runs its event loop. No I/O, so a slow database never gets a live process
    restarted (that is what readiness is for)."""
    return web.json_response({"status": "live"}, headers={"Cache-Control": "no-store"})


class NotReady(PuenteError):
    """A dependency of this process is not ready: an orchestrator or proxy stops sending it requests."""

    slug = "not-ready"
    title = "Not ready"
    status = 503


async def readyz(request: web.Request) -> web.Response:
    """Readiness: this process can serve issuance now (database, schema, signing workers, keys); 503
    problem+json naming what is not, with every check's outcome in `checks`."""
    checks = await readiness(request.app[SERVICES])
    if any(outcome != "ok" for outcome in checks.values()):
        failed = ", ".join(name for name, outcome in checks.items() if outcome != "ok")
        raise NotReady(f"not ready: {failed}", checks=checks)
    return web.json_response({"status": "ready", "checks": checks}, headers={"Cache-Control": "no-store"})


async def node_did_document(request: web.Request) -> web.Response:
    keystore = request.app[SERVICES].keystore
    document = await keystore.resolve_local(keystore.node_did)
    if document is None:
        raise NotFound("this node has no DID yet: run puente init")
    return document_response(request, document, max_age=DID_MAX_AGE)


async def hosted_did_document(request: web.Request) -> web.Response:
    keystore = request.app[SERVICES].keystore
    path = request.match_info["path"]
    did = await keystore.did_for_url_path(path)
    if did is None:
        raise NotFound(f"no DID is hosted at /{path}/did.json")
    return document_response(request, await keystore.did_document(did), max_age=DID_MAX_AGE)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_DOCUMENT])


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/health", health)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/.well-known/did.json", node_did_document)
    app.router.add_get("/{path:.+}/did.json", hosted_did_document)


_DID_RESPONSES = {
    "200": {"description": "DID document (did:web), with ETag and Cache-Control",
            "content": {"application/json": {"schema": {"type": "object"}}}},
    "304": {"description": "unchanged (If-None-Match)"},
    "404": {"$ref": "#/components/responses/NotFound"},
}

_READINESS_CHECKS = {"type": "object", "required": ["database", "migrations", "signing", "keys"],
                     "additionalProperties": {"type": "string"},
                     "description": "each check: \"ok\" or why it is not"}

OPENAPI = {
    **HOME_OPENAPI,
    "/health": {"get": {
        "summary": "Node health", "operationId": "health",
        "responses": {
            "200": {"description": "node and database are up", "content": {"application/json": {"schema": {
                "type": "object", "required": ["status", "version", "database", "jurisdiction", "did"],
                "properties": {"status": {"enum": ["ok", "degraded"]}, "version": {"type": "string"},
                               "database": {"enum": ["ok", "unreachable"]},
                               "jurisdiction": {"type": "string"}, "did": {"type": "string"}}}}}},
            "503": {"description": "the database is unreachable"},
        }}},
    "/livez": {"get": {
        "summary": "Liveness (the process answers; no database or other I/O)", "operationId": "livez",
        "responses": {"200": {"description": "the process is live", "content": {"application/json": {"schema": {
            "type": "object", "required": ["status"], "properties": {"status": {"const": "live"}}}}}}}}},
    "/readyz": {"get": {
        "summary": "Readiness: database reachable (short timeout), migrations at head, signing workers "
                   "answer, the node's key is usable", "operationId": "readyz",
        "responses": {
            "200": {"description": "ready for traffic", "content": {"application/json": {"schema": {
                "type": "object", "required": ["status", "checks"],
                "properties": {"status": {"const": "ready"}, "checks": _READINESS_CHECKS}}}}},
            "503": {"description": "not ready: problem+json (type .../not-ready) with every check's outcome in `checks`",
                    "content": {"application/problem+json": {"schema": {
                        "type": "object", "required": ["type", "status", "checks"],
                        "properties": {"type": {"type": "string"}, "status": {"const": 503},
                                       "checks": _READINESS_CHECKS}}}}},
        }}},
    "/openapi.json": {"get": {"summary": "This OpenAPI document", "operationId": "openapi",
                              "responses": {"200": {"description": "OpenAPI 3.1 document"}}}},
    "/.well-known/did.json": {"get": {"summary": "The node's DID document", "operationId": "nodeDidDocument",
                                      "responses": _DID_RESPONSES}},
    "/{path}/did.json": {"get": {
        "summary": "DID document of a ministry or institution hosted on this node",
        "operationId": "hostedDidDocument",
        "parameters": [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "institutions/intecap"}],
        "responses": _DID_RESPONSES}},
}
