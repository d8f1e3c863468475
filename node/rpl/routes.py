"""HTTP: public reads of catalogues and signed readiness assessments; ministry-authenticated readiness
writes; issuer-authenticated RPL cases (they hold personal data, so nothing about a case is public).

Who acts comes from the token: a ministry token records, shows and publishes its own jurisdiction's
readiness only; the checkpoint catalogue is regional data, loaded by the node operator only. In RPL
cases the actor of every transition (opener, assessor who decides, reviewer who resolves) is the
token's subject; a body naming another actor is refused."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from node.errors import InvalidInput, ValidationFailed
from node.http.auth import OPERATOR, require_institution, require_jurisdiction, require_role
from node.http.io import LARGE_BODY_BYTES, document_response, read_json
from node.http.params import parse_int
from node.http.keys import SERVICES
from node.rpl.catalogue import parse_catalogue
from node.rpl.wiring import case_service, readiness_service

routes = web.RouteTableDef()


def _readiness(request: web.Request):
    return readiness_service(request.app[SERVICES])


def _cases(request: web.Request):
    return case_service(request.app[SERVICES])


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    return body


def _text(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    return value


# -- readiness: public ----------------------------------------------------------------------------


@routes.get("/readiness/catalogue")
async def current_catalogue(request: web.Request) -> web.Response:
    catalogue = await _readiness(request).catalogue(request.query.get("id"), request.query.get("version"))
    return document_response(request, catalogue.canonical_bytes())


@routes.get("/readiness/catalogues")
async def list_catalogues(request: web.Request) -> web.Response:
    return web.json_response(await _readiness(request).catalogues())


@routes.get("/readiness")
async def readiness_index(request: web.Request) -> web.Response:
    return document_response(request, await _readiness(request).published_index(), max_age=60)


@routes.get("/readiness/{jurisdiction}")
async def published_assessment(request: web.Request) -> web.Response:
    published = await _readiness(request).published(request.match_info["jurisdiction"])
    return document_response(request, published.body)


@routes.post("/readiness/verify")
async def verify_assessment(request: web.Request) -> web.Response:
    """Anyone may ask this node to check a readiness assessment (its own or a peer's)."""
    services = request.app[SERVICES]
    result = await _readiness(request).verify(await read_json(request), services.resolver)
    return web.json_response(result.to_json())


# -- readiness: ministry writes -------------------------------------------------------------------


async def _ministry_of(request: web.Request):
    """A ministry token acts for its own jurisdiction only (an operator for any)."""
    return require_jurisdiction(await require_role(request, "ministry"), request.match_info["jurisdiction"])


@routes.post("/readiness/catalogues")
async def load_catalogue(request: web.Request) -> web.Response:
    await require_role(request, OPERATOR)  # regional data: read-only for ministries
    summary = await _readiness(request).load_catalogue(parse_catalogue(await read_json(request, max_bytes=LARGE_BODY_BYTES)))
    return web.json_response(summary, status=201 if summary["status"] == "loaded" else 200)


@routes.post("/readiness/{jurisdiction}/assessments")
async def record_assessment(request: web.Request) -> web.Response:
    principal = await _ministry_of(request)
    summary = await _readiness(request).record(request.match_info["jurisdiction"], await read_json(request), recorded_by=principal.subject)
    return web.json_response(summary, status=201)


@routes.get("/readiness/{jurisdiction}/assessment")
async def show_assessment(request: web.Request) -> web.Response:
    await _ministry_of(request)  # recorded answers are a draft until published
    return web.json_response(await _readiness(request).show(request.match_info["jurisdiction"]))


@routes.post("/readiness/{jurisdiction}/publish")
async def publish_assessment(request: web.Request) -> web.Response:
    await _ministry_of(request)
    published = await _readiness(request).publish(request.match_info["jurisdiction"])
    return document_response(request, published.body, status=201 if published.new else 200)


# -- RPL cases (issuer) ---------------------------------------------------------------------------
# As for issuance, an issuer token acts for one institution (its scope): it sees and changes only that
# institution's cases. An operator token may act for any.


async def _issuer_of(request: web.Request, institution: str):
    return require_institution(await require_role(request, "issuer"), institution)


def _actor(body: dict[str, Any], principal) -> str:
    """Who acts is the token's subject; a body may repeat it but never name someone else."""
    named = body.get("actor")
    if named is not None and (not isinstance(named, str) or named.strip().casefold() != principal.subject.casefold()):
        raise ValidationFailed(f"the actor is the token's holder ({principal.subject}); leave actor out",
                               errors=[{"path": "actor", "error": "must be the token's subject"}])
    return principal.subject


async def _issuer_of_case(request: web.Request) -> tuple[Any, str, dict[str, Any]]:
    """(principal, case id, case) after checking the token may act on this case's institution."""
    await require_role(request, "issuer")  # authenticate before revealing anything about the case
    case_id = request.match_info["case_id"]
    case = await _cases(request).show(case_id)
    principal = await _issuer_of(request, case["institution"])
    return principal, case_id, case


@routes.post("/rpl/cases")
async def open_case(request: web.Request) -> web.Response:
    await require_role(request, "issuer")
    body = _object(await read_json(request))
    principal = await _issuer_of(request, _text(body, "institution"))
    case = await _cases(request).open(
        institution=_text(body, "institution"), template_id=_text(body, "template"), given_name=_text(body, "givenName"),
        family_name=_text(body, "familyName"), identifier=_text(body, "identifier"), actor=_actor(body, principal),
        reason=_text(body, "reason", "inquiry received"), follows=_text(body, "follows") or None,
    )
    return web.json_response(case, status=201)


@routes.get("/rpl/cases")
async def list_cases(request: web.Request) -> web.Response:
    principal = await require_role(request, "issuer")
    institution = request.query.get("institution")
    if principal.role != OPERATOR:
        institution = (await _issuer_of(request, institution or principal.institution)).institution
    return web.json_response(await _cases(request).list(institution=institution, state=request.query.get("state")))


@routes.get("/rpl/cases/{case_id}")
async def show_case(request: web.Request) -> web.Response:
    _, _, case = await _issuer_of_case(request)
    return web.json_response(case)


@routes.post("/rpl/cases/{case_id}/transitions")
async def advance_case(request: web.Request) -> web.Response:
    principal, case_id, _ = await _issuer_of_case(request)
    body = _object(await read_json(request))
    to_state = _text(body, "to")
    actor, reason = _actor(body, principal), _text(body, "reason")
    service = _cases(request)
    if to_state == "assessment_planned":
        case = await service.plan_assessment(case_id, assessor=_text(body, "assessor"), method=_text(body, "method"), actor=actor, reason=reason)
    else:
        case = await service.advance(case_id, to_state, actor=actor, reason=reason)
    return web.json_response(case)


@routes.post("/rpl/cases/{case_id}/decision")
async def decide_case(request: web.Request) -> web.Response:
    principal, _, _ = await _issuer_of_case(request)
    body = _object(await read_json(request))
    units = body.get("units") or []
    if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
        raise InvalidInput("units must be a list of strings")
    case = await _cases(request).decide(request.match_info["case_id"], outcome=_text(body, "outcome"), units=tuple(units),
                                        actor=_actor(body, principal), reason=_text(body, "reason"))
    return web.json_response(case)


@routes.post("/rpl/cases/{case_id}/appeal")
async def appeal_case(request: web.Request) -> web.Response:
    principal, _, _ = await _issuer_of_case(request)
    body = _object(await read_json(request))
    case = await _cases(request).appeal(request.match_info["case_id"], reviewer=_text(body, "reviewer"),
                                        actor=_actor(body, principal), reason=_text(body, "reason"))
    return web.json_response(case)


@routes.post("/rpl/cases/{case_id}/appeal/resolution")
async def resolve_appeal(request: web.Request) -> web.Response:
    principal, _, _ = await _issuer_of_case(request)
    body = _object(await read_json(request))
    case = await _cases(request).resolve_appeal(request.match_info["case_id"], outcome=_text(body, "outcome"),
                                                actor=_actor(body, principal), reason=_text(body, "reason"))
    return web.json_response(case)


@routes.post("/rpl/cases/{case_id}/evidence")
async def attach_evidence(request: web.Request) -> web.Response:
    principal, _, _ = await _issuer_of_case(request)
    body = _object(await read_json(request, max_bytes=LARGE_BODY_BYTES))  # evidence: up to 10 MiB, base64
    content = None
    if body.get("contentBase64") is not None:
        try:
            content = base64.b64decode(_text(body, "contentBase64"), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("contentBase64 is not base64") from None
    item = await _cases(request).attach_evidence(
        request.match_info["case_id"], name=_text(body, "name"), media_type=_text(body, "mediaType"),
        actor=_actor(body, principal), sha256=body.get("sha256") if isinstance(body.get("sha256"), str) else None,
        url=body.get("url") if isinstance(body.get("url"), str) else None, content=content,
    )
    return web.json_response(item, status=201)


@routes.get("/rpl/cases/{case_id}/evidence/{evidence_id:\\d+}")
async def evidence_content(request: web.Request) -> web.Response:
    await _issuer_of_case(request)
    from node.http.safety import attachment_response

    case_id, evidence_id = request.match_info["case_id"], parse_int(request.match_info["evidence_id"], "an evidence id")
    content, media_type, sha256 = await _cases(request).evidence_content(case_id, evidence_id)
    # Uploaded bytes and an uploader-chosen media type: a download, never a page on this origin.
    return attachment_response(content, media_type=media_type, name=await _cases(request).evidence_name(case_id, evidence_id),
                               headers={"Digest": f"sha-256={base64.b64encode(bytes.fromhex(sha256)).decode()}",
                                        "Cache-Control": "private, no-store"})


def setup_routes(app: web.Application) -> None:
    app.add_routes(routes)


# -- OpenAPI --------------------------------------------------------------------------------------

_JSON = {"application/json": {"schema": {"type": "object"}}}
_SIGNED = {"200": {"description": "the signed document (exact stored bytes; ETag = SHA-256)", "content": _JSON},
           "304": {"description": "unchanged since If-None-Match"}, "404": {"description": "not published"}}
_CASE = {"200": {"description": "the case with its history and evidence", "content": _JSON},
         "409": {"description": "transition not allowed from the current state"}, "422": {"description": "validation failed"}}
_BEARER = [{"bearerAuth": []}]
_J = [{"name": "jurisdiction", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"}}]
_C = [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}]

OPENAPI: dict[str, Any] = {
    "/readiness/catalogue": {"get": {"summary": "The newest (or ?id=&version=) checkpoint catalogue", "tags": ["readiness"], "responses": _SIGNED}},
    "/readiness/catalogues": {
        "get": {"summary": "Loaded catalogue versions", "tags": ["readiness"], "responses": {"200": {"description": "list"}}},
        "post": {"summary": "Load a catalogue version (ministry)", "tags": ["readiness"], "security": _BEARER,
                 "requestBody": {"content": _JSON}, "responses": {"201": {"description": "loaded"}, "200": {"description": "already loaded"},
                                                                  "409": {"description": "version exists with other content"}}},
    },
    "/readiness/verify": {"post": {"summary": "Verify a signed readiness assessment: proofs, issuer, schema, result recomputed from the answers",
                                   "tags": ["readiness"], "requestBody": {"content": _JSON},
                                   "responses": {"200": {"description": "{verified, checks[, errors]}"}}}},
    "/readiness": {"get": {"summary": "Newest published readiness assessment per jurisdiction", "tags": ["readiness"], "responses": _SIGNED}},
    "/readiness/{jurisdiction}": {"get": {"summary": "Signed readiness assessment (public)", "tags": ["readiness"], "parameters": _J, "responses": _SIGNED}},
    "/readiness/{jurisdiction}/assessments": {"post": {"summary": "Record answers (ministry)", "tags": ["readiness"], "parameters": _J,
                                                        "security": _BEARER, "requestBody": {"content": _JSON},
                                                        "responses": {"201": {"description": "recorded"}, "422": {"description": "validation failed"}}}},
    "/readiness/{jurisdiction}/assessment": {"get": {"summary": "Latest recorded answers, published or not (ministry)", "tags": ["readiness"],
                                                     "parameters": _J, "security": _BEARER, "responses": {"200": {"description": "summary"}}}},
    "/readiness/{jurisdiction}/publish": {"post": {"summary": "Sign and publish the latest answers (ministry)", "tags": ["readiness"],
                                                   "parameters": _J, "security": _BEARER, "responses": {"201": {"description": "signed now"}, "200": {"description": "already published"}}}},
    "/rpl/cases": {
        "get": {"summary": "List RPL cases (issuer)", "tags": ["rpl"], "security": _BEARER, "responses": {"200": {"description": "cases"}}},
        "post": {"summary": "Open a case {institution, template, givenName, familyName, identifier[, follows]} (issuer)", "tags": ["rpl"], "security": _BEARER, "requestBody": {"content": _JSON},
                 "responses": {"201": {"description": "the new case"}, "422": {"description": "validation failed"}}},
    },
    "/rpl/cases/{case_id}": {"get": {"summary": "A case with history and evidence (issuer)", "tags": ["rpl"], "parameters": _C,
                                     "security": _BEARER, "responses": _CASE}},
    "/rpl/cases/{case_id}/transitions": {"post": {"summary": "Move to a state: {to, reason[, assessor, method]}; the actor is the token's subject", "tags": ["rpl"],
                                                  "parameters": _C, "security": _BEARER, "requestBody": {"content": _JSON}, "responses": _CASE}},
    "/rpl/cases/{case_id}/decision": {"post": {"summary": "Decide {outcome, units, reason} as the assessor's token; full/partial issues the credential",
                                               "tags": ["rpl"], "parameters": _C, "security": _BEARER, "requestBody": {"content": _JSON}, "responses": _CASE}},
    "/rpl/cases/{case_id}/appeal": {"post": {"summary": "Appeal {reviewer, reason}; reviewer ≠ assessor; the actor is the token's subject", "tags": ["rpl"],
                                             "parameters": _C, "security": _BEARER, "requestBody": {"content": _JSON}, "responses": _CASE}},
    "/rpl/cases/{case_id}/appeal/resolution": {"post": {"summary": "Resolve the appeal {outcome: upheld|overturned, reason} as the reviewer's token",
                                                        "tags": ["rpl"], "parameters": _C, "security": _BEARER,
                                                        "requestBody": {"content": _JSON}, "responses": _CASE}},
    "/rpl/cases/{case_id}/evidence": {"post": {"summary": "Attach evidence {name, mediaType, url+sha256 | contentBase64}", "tags": ["rpl"],
                                               "parameters": _C, "security": _BEARER, "requestBody": {"content": _JSON},
                                               "responses": {"201": {"description": "the evidence record"}}}},
    "/rpl/cases/{case_id}/evidence/{evidence_id}": {"get": {"summary": "Stored evidence bytes (issuer)", "tags": ["rpl"],
                                                            "parameters": _C + [{"name": "evidence_id", "in": "path", "required": True,
                                                                                 "schema": {"type": "integer"}}],
                                                            "security": _BEARER, "responses": {"200": {"description": "the file"}}}},
}

# Typed request bodies (node/rpl/api_bodies.py) on the operations above.
from node.rpl.api_bodies import REQUEST_BODIES as _REQUEST_BODIES  # noqa: E402
from node.http.openapi import with_request_bodies as _with_request_bodies  # noqa: E402

OPENAPI = _with_request_bodies(OPENAPI, _REQUEST_BODIES)
