"""HTTP: public reads of frameworks, levels, qualifications, mappings, publications and the
cross-framework query; ministry-authenticated writes (import, map, approve, publish).

Who acts comes from the API token (a named person, a role, a scope): a row's author and its approver
are the token's subject (a body naming another author is refused), so "a second person approves" means
a second person's token. A ministry token writes only its own jurisdiction's framework; the RQF and
other regional or reference frameworks are loaded by the node operator only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import InvalidInput, NotFound, ValidationFailed
from node.http.auth import require_jurisdiction, require_role
from node.http.io import document_response, read_json
from node.http.params import parse_int
from node.http.keys import SERVICES
from node.framework.wiring import framework_service, peer_publications

routes = web.RouteTableDef()
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _service(request: web.Request):
    return framework_service(request.app[SERVICES])


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    return body


def _version(value: str | None) -> int | None:
    return parse_int(value, "a mapping version")


# -- public reads ---------------------------------------------------------------------------------


@routes.get("/framework")
async def list_frameworks(request: web.Request) -> web.Response:
    return web.json_response(await _service(request).frameworks())


@routes.get("/framework/resolve")
async def resolve(request: web.Request) -> web.Response:
    source, goal = request.query.get("from"), request.query.get("to")
    if not source or not goal:
        raise InvalidInput("ask with ?from=FRAMEWORK_ID:CODE&to=FRAMEWORK_ID, e.g. ?from=ie-nfq:7&to=eqf")
    return web.json_response(await _service(request).resolve(source, goal))


@routes.post("/framework/verify")
async def verify(request: web.Request) -> web.Response:
    """Anyone may ask this node to check a framework publication (its own or a peer's)."""
    result = await _service(request).verify(await read_json(request), request.app[SERVICES].resolver)
    return web.json_response({"verified": result.verified, "checks": [c.to_json() for c in result.checks]})


async def _framework(request: web.Request):
    return await _service(request).framework(request.match_info["framework_id"], request.query.get("version"))


@routes.get("/framework/{framework_id}")
async def show_framework(request: web.Request) -> web.Response:
    framework = await _framework(request)
    return web.json_response({**framework.to_json(), "qualifications": [q.to_json() for q in framework.qualifications]})


@routes.get("/framework/{framework_id}/levels")
async def levels(request: web.Request) -> web.Response:
    framework = await _framework(request)
    return web.json_response([lv.to_json() for lv in framework.levels])


@routes.get("/framework/{framework_id}/levels/{level}")
async def level(request: web.Request) -> web.Response:
    framework = await _framework(request)
    found = framework.level(request.match_info["level"])
    if found is None:
        raise NotFound(f"{framework.key} has no level {request.match_info['level']}")
    return web.json_response({"framework": framework.id, "version": framework.version, **found.to_json()})


@routes.get("/framework/{framework_id}/qualifications")
async def qualifications(request: web.Request) -> web.Response:
    framework = await _framework(request)
    sector = request.query.get("sector")
    return web.json_response([q.to_json() for q in framework.qualifications if sector is None or q.sector == sector])


@routes.get("/framework/{framework_id}/qualifications/{code}")
async def qualification(request: web.Request) -> web.Response:
    framework = await _framework(request)
    found = framework.qualification(request.match_info["code"])
    if found is None:
        raise NotFound(f"{framework.key} has no qualification {request.match_info['code']}")
    return web.json_response({"framework": framework.id, "version": framework.version, **found.to_json()})


@routes.get("/framework/{framework_id}/mappings")
async def mappings(request: web.Request) -> web.Response:
    return web.json_response(await _service(request).mappings(request.match_info["framework_id"]))


@routes.get("/framework/{framework_id}/mappings/{target}/{version}")
async def mapping(request: web.Request) -> web.Response:
    info = request.match_info
    return web.json_response(await _service(request).mapping(info["framework_id"], info["target"], _version(info["version"])))


@routes.get("/framework/{framework_id}/export")
async def export(request: web.Request) -> web.Response:
    fmt = request.query.get("format", "json")
    text = await _service(request).export(request.match_info["framework_id"], fmt)
    return web.Response(text=text, content_type="text/csv" if fmt == "csv" else "application/json", charset="utf-8")


@routes.get("/framework/{framework_id}/publication")
async def newest_publication(request: web.Request) -> web.Response:
    published = await _service(request).publication(request.match_info["framework_id"], request.query.get("target"))
    return document_response(request, published.body)


@routes.get("/framework/{framework_id}/publications")
async def publications(request: web.Request) -> web.Response:
    return web.json_response(await _service(request).publications(request.match_info["framework_id"]))


@routes.get("/framework/{framework_id}/publications/{target}/{version}")
async def publication(request: web.Request) -> web.Response:
    info = request.match_info
    published = await _service(request).publication(info["framework_id"], info["target"], _version(info["version"]))
    return document_response(request, published.body)


# -- ministry writes ------------------------------------------------------------------------------


async def _ministry_of(request: web.Request):
    """The principal, after checking it may write this framework: a ministry its own national one."""
    principal = await require_role(request, "ministry")
    framework = await _service(request).framework(request.match_info["framework_id"], None)
    return require_jurisdiction(principal, framework.jurisdiction if framework.kind == "national" else None)


@routes.post("/framework/import")
async def import_file(request: web.Request) -> web.Response:
    """Body: the JSON import document (application/json) or the CSV file (text/csv); all or nothing."""
    principal = await require_role(request, "ministry")
    if request.content_type == "text/csv":
        if request.content_length and request.content_length > MAX_IMPORT_BYTES:
            raise InvalidInput("the import file is larger than 20 MiB")
        raw = await request.read()
        try:
            text, fmt = raw.decode("utf-8"), "csv"
        except UnicodeDecodeError:
            raise InvalidInput("the CSV file is not UTF-8") from None
    else:
        import json

        text, fmt = json.dumps(await read_json(request, max_bytes=MAX_IMPORT_BYTES)), "json"
    summary = await _service(request).import_text(text, fmt, by=principal)
    return web.json_response(summary, status=201 if summary["status"] != "unchanged" else 200)


@routes.post("/framework/publications")
async def accept_publication(request: web.Request) -> web.Response:
    """A peer's signed framework publication: verified (fail closed), then stored verbatim."""
    await require_role(request, "ministry")
    if request.content_length and request.content_length > MAX_IMPORT_BYTES:
        raise InvalidInput("the publication is larger than 20 MiB")
    services = request.app[SERVICES]
    summary = await peer_publications(services).accept(await request.read(), services.resolver)
    return web.json_response(summary, status=201 if summary["status"] == "accepted" else 200)


@routes.post("/framework/{framework_id}/mappings")
async def map_row(request: web.Request) -> web.Response:
    """Body: {"target": "rqf", "from": {"level": "3"}, "to": "3", "relation", "rationale", "evidence"?, "author"?}."""
    principal = await _ministry_of(request)
    body = dict(_object(await read_json(request, max_bytes=MAX_IMPORT_BYTES)))
    target = body.pop("target", "rqf")
    if not isinstance(target, str):
        raise InvalidInput("target must be a framework id such as rqf")
    if body.get("author") is not None and (not isinstance(body["author"], str)
                                          or body["author"].strip().casefold() != principal.subject.casefold()):
        raise ValidationFailed(f"the author of a row is the token's holder ({principal.subject}); leave author out",
                               errors=[{"path": "author", "error": "must be the token's subject"}])
    body["author"] = principal.subject
    summary = await _service(request).map(request.match_info["framework_id"], target, body)
    return web.json_response(summary, status=201)


@routes.post("/framework/{framework_id}/approve")
async def approve(request: web.Request) -> web.Response:
    """Body (optional): {"target"?, "level"? | "qualification"?}; the approver is the token's subject."""
    principal = await _ministry_of(request)
    body = _object(await read_json(request)) if request.can_read_body else {}
    for name in ("target", "level", "qualification"):
        if body.get(name) is not None and not isinstance(body[name], (str, int)):
            raise InvalidInput(f"{name} must be a string")
    level = str(body["level"]) if body.get("level") is not None else None
    if body.get("approver") is not None and body["approver"] != principal.subject:
        raise ValidationFailed(f"the approver is the token's holder ({principal.subject}); leave approver out",
                               errors=[{"path": "approver", "error": "must be the token's subject"}])
    summary = await _service(request).approve(request.match_info["framework_id"], principal.subject, target_id=body.get("target"),
                                              level=level, qualification=body.get("qualification"))
    return web.json_response(summary)


@routes.post("/framework/{framework_id}/publish")
async def publish(request: web.Request) -> web.Response:
    await _ministry_of(request)
    published = await _service(request).publish(request.match_info["framework_id"], request.query.get("target"))
    return document_response(request, published.body, status=201 if published.new else 200)


def setup_routes(app: web.Application) -> None:
    app.add_routes(routes)


# -- OpenAPI --------------------------------------------------------------------------------------

_JSON = {"application/json": {"schema": {"type": "object"}}}
_BEARER = [{"bearerAuth": []}]
_F = [{"name": "framework_id", "in": "path", "required": True, "schema": {"type": "string"}, "example": "gt-mnc"}]
_TV = _F + [{"name": "target", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}]
_SIGNED = {"200": {"description": "the signed publication (exact stored bytes; ETag = SHA-256)", "content": _JSON},
           "304": {"description": "unchanged since If-None-Match"}, "404": {"description": "not published"}}
_OK = {"200": {"description": "JSON"}, "404": {"description": "unknown framework"}}


def _get(summary: str, parameters: list | None = None, responses: dict | None = None) -> dict[str, Any]:
    return {"get": {"summary": summary, "tags": ["framework"], **({"parameters": parameters} if parameters else {}),
                    "responses": responses or _OK}}


def _post(summary: str, parameters: list | None = None, responses: dict | None = None) -> dict[str, Any]:
    return {"post": {"summary": summary, "tags": ["framework"], "security": _BEARER, "requestBody": {"content": _JSON},
                     **({"parameters": parameters} if parameters else {}),
                     "responses": responses or {"200": {"description": "done"}, "422": {"description": "validation failed"}}}}


OPENAPI: dict[str, Any] = {
    "/framework": _get("Loaded frameworks, newest version of each"),
    "/framework/resolve": _get("Cross-framework query ?from=FRAMEWORK:CODE&to=FRAMEWORK: chain of published mapping rows and weakest link",
                               [{"name": "from", "in": "query", "required": True, "schema": {"type": "string"}, "example": "ie-nfq:7"},
                                {"name": "to", "in": "query", "required": True, "schema": {"type": "string"}, "example": "eqf"}],
                               {"200": {"description": "results"}, "404": {"description": "no mapping"}}),
    "/framework/import": _post("Import a framework, qualifications and mappings (JSON document or text/csv), all or nothing (ministry)",
                               responses={"201": {"description": "imported"}, "200": {"description": "unchanged"},
                                          "422": {"description": "errors by JSON path or CSV line; nothing imported"}}),
    "/framework/publications": _post("Accept a peer's signed framework publication: verified, then stored verbatim (ministry)",
                                     responses={"201": {"description": "accepted"}, "200": {"description": "already stored"},
                                                "409": {"description": "conflicts with what is stored"},
                                                "422": {"description": "does not verify; nothing stored"}}),
    "/framework/verify": {"post": {"summary": "Verify a signed framework publication", "tags": ["framework"],
                                   "requestBody": {"content": _JSON}, "responses": {"200": {"description": "{verified, checks}"}}}},
    "/framework/{framework_id}": _get("A framework version (?version=) with levels and qualifications", _F),
    "/framework/{framework_id}/levels": _get("Levels with descriptors", _F),
    "/framework/{framework_id}/levels/{level}": _get("One level", _F + [{"name": "level", "in": "path", "required": True, "schema": {"type": "string"}}]),
    "/framework/{framework_id}/qualifications": _get("Qualifications (?sector=)", _F),
    "/framework/{framework_id}/qualifications/{code}": _get("One qualification", _F + [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]),
    "/framework/{framework_id}/mappings": {**_get("Mapping versions (drafts and published)", _F),
                                           **_post("Add or replace a draft mapping row (ministry)", _F, {"201": {"description": "draft updated"}, "422": {"description": "invalid row"}})},
    "/framework/{framework_id}/mappings/{target}/{version}": _get("One mapping version", _TV),
    "/framework/{framework_id}/approve": _post("Approve draft rows as the token's subject (never the author) (ministry of the framework's jurisdiction)", _F),
    "/framework/{framework_id}/publish": _post("Sign and publish the framework with its mapping (ministry)", _F,
                                               {"201": {"description": "signed now"}, "200": {"description": "already published"},
                                                "422": {"description": "mapping incomplete or unapproved"}}),
    "/framework/{framework_id}/export": _get("Export in the import format (?format=json|csv)", _F),
    "/framework/{framework_id}/publication": _get("Newest signed publication (public)", _F, _SIGNED),
    "/framework/{framework_id}/publications": _get("Published mapping versions", _F),
    "/framework/{framework_id}/publications/{target}/{version}": _get("A signed publication of a mapping version (old versions stay)", _TV, _SIGNED),
}

# Typed request bodies (node/framework/api_bodies.py) on the operations above.
from node.framework.api_bodies import REQUEST_BODIES as _REQUEST_BODIES  # noqa: E402
from node.http.openapi import with_request_bodies as _with_request_bodies  # noqa: E402

OPENAPI = _with_request_bodies(OPENAPI, _REQUEST_BODIES)
