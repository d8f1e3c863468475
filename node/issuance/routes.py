"""HTTP for issuance. Public: status lists, credentials by id (JSON/QR/PDF), institutions, templates,
and verification. Issuer-authenticated: issuing, batches and status changes. Handlers stay thin."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import InvalidInput, NotFound
from node.http.auth import OPERATOR, require_institution, require_role
from node.http.io import LARGE_BODY_BYTES, document_response, read_json
from node.http.keys import SERVICES
from node.issuance import delivery

routes = web.RouteTableDef()
STATUS_MAX_AGE = 60  # verifiers see a revocation within a minute


def _service(request: web.Request):
    from node.issuance.service import IssuanceService

    return IssuanceService.from_services(request.app[SERVICES])


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    return body


async def _require_issuer_of(request: web.Request, institution: str) -> None:
    """Issuer tokens act for one institution (their scope); operators for all."""
    require_institution(await require_role(request, "issuer"), institution)


def _template_id(body: dict[str, Any]) -> str:
    template = body.get("template")
    if not isinstance(template, str) or not template:
        raise InvalidInput("template (an achievement template id) is required")
    return template


def _institution_json(inst) -> dict[str, Any]:
    return {"slug": inst.slug, "name": inst.name, "did": inst.did, "logo_url": inst.logo_url, "url": inst.url,
            "scope": inst.scope.to_json(), "status_purposes": list(inst.status_purposes)}


# -- public ----------------------------------------------------------------------------------------


@routes.get("/status/{list_id}")
async def status_list(request: web.Request) -> web.Response:
    text, _digest = await _service(request).status_list_document(request.match_info["list_id"])
    return document_response(request, text.encode("utf-8"), max_age=STATUS_MAX_AGE, content_type="application/vc+ld+json")


@routes.get("/credentials/{credential_id}")
async def credential_json(request: web.Request) -> web.Response:
    """Without a token: the exact signed bytes at the credential's own URL (its unguessable uuid). With one:
    the VC API's getCredential (node/vcapi/routes.py), by any id, for the issuer of its institution only."""
    if "Authorization" in request.headers:
        from node.vcapi.routes import get_credential

        return await get_credential(request, request.match_info["credential_id"])
    issued = await _service(request).credential(request.match_info["credential_id"])
    return document_response(request, issued.document.encode("utf-8"), content_type="application/vc+ld+json")


async def _rendering(request: web.Request, fmt: str) -> web.Response:
    service = _service(request)
    issued = await service.credential(request.match_info["credential_id"])
    status = None
    if fmt == "pdf":  # a PDF of a revoked or suspended credential says so (the QR only links to the live verdict)
        current = await service.credential_status(issued.id)
        status = delivery.status_note(current["state"], current["events"])
    # Off the event loop and cached by the document's digest (and status): drawing is CPU work.
    body = await delivery.render_off_loop(issued.document, fmt, verify_url=delivery.verify_url(service.base_url, issued.id),
                                          status=status)
    return document_response(request, body, content_type=delivery.FORMATS[fmt])


@routes.get("/credentials/{credential_id}/qr.png")
async def credential_qr_png(request: web.Request) -> web.Response:
    return await _rendering(request, "png")


@routes.get("/credentials/{credential_id}/qr.svg")
async def credential_qr_svg(request: web.Request) -> web.Response:
    return await _rendering(request, "svg")


@routes.get("/credentials/{credential_id}/credential.pdf")
async def credential_pdf(request: web.Request) -> web.Response:
    return await _rendering(request, "pdf")


@routes.get("/institutions")
async def list_institutions(request: web.Request) -> web.Response:
    return web.json_response([_institution_json(i) for i in await _service(request).institutions()])


@routes.get("/templates")
async def list_templates(request: web.Request) -> web.Response:
    templates = await _service(request).templates(request.query.get("institution"))
    return web.json_response([t.to_json() for t in templates])


@routes.get("/achievements/{template_id}")
async def achievement(request: web.Request) -> web.Response:
    from node.issuance.ob3 import achievement as achievement_of

    service = _service(request)
    template = await service.get_template(request.match_info["template_id"])
    return web.json_response(achievement_of(template, service.base_url, puente_terms=service.puente_terms))


@routes.post("/verify")
async def verify(request: web.Request) -> web.Response:
    from node.issuance.verify import verify_credential

    body = await read_json(request)
    # Accept the credential itself, or {"verifiableCredential": credential}.
    if isinstance(body, dict) and "@context" not in body and "verifiableCredential" in body:
        body = body["verifiableCredential"]
    credential = body
    result = await verify_credential(request.app[SERVICES], credential)
    return web.json_response(result.to_json())


@routes.get("/verify/{credential_id}")
async def verify_issued(request: web.Request) -> web.Response:
    """Where a credential's QR code points: a live verdict on the credential as this node issued it."""
    import json

    from node.issuance.verify import verify_credential

    credential_id = request.match_info["credential_id"]
    try:
        issued = await _service(request).credential(credential_id)
    except NotFound:
        if not _prefers_html(request):
            raise
        from node.issuance.pages import not_found_page  # a person, not a program: a page, not problem+json

        return web.Response(text=not_found_page(credential_id), content_type="text/html", status=404,
                            headers={"Cache-Control": "no-store"})
    credential = json.loads(issued.document)
    out = (await verify_credential(request.app[SERVICES], credential)).to_json()
    out["credential"] = issued.uri
    if _prefers_html(request):  # a phone that scanned the QR code
        from node.issuance.pages import verification_page

        return web.Response(text=verification_page(credential, out), content_type="text/html",
                            headers={"Cache-Control": "no-store"})
    return web.json_response(out, headers={"Cache-Control": "no-store"})


def _prefers_html(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


# -- issuer ----------------------------------------------------------------------------------------


@routes.post("/institutions")
async def create_institution(request: web.Request) -> web.Response:
    await require_role(request, OPERATOR)
    body = _object(await read_json(request))
    inst = await _service(request).create_institution(
        body.get("slug"), body.get("name"), scope=body.get("scope"), logo_url=body.get("logo_url"), url=body.get("url"),
        suspension=body.get("suspension", False))
    return web.json_response(_institution_json(inst), status=201)


@routes.put("/institutions/{slug}/status-purposes")
async def set_status_purposes(request: web.Request) -> web.Response:
    """{"suspension": true|false}: whether new credentials also get a 1-bit suspension entry."""
    slug = request.match_info["slug"]
    await _require_issuer_of(request, slug)
    body = _object(await read_json(request))
    inst = await _service(request).set_status_purposes(slug, suspension=body.get("suspension"))
    return web.json_response(_institution_json(inst))


@routes.post("/templates")
async def create_template(request: web.Request) -> web.Response:
    body = _object(await read_json(request))
    await _require_issuer_of(request, str(body.get("institution")))
    template = await _service(request).create_template(body)
    return web.json_response(template.to_json(), status=201)


@routes.post("/credentials")
async def issue_one(request: web.Request) -> web.Response:
    await require_role(request, "issuer")  # authenticate before reading or validating anything
    body = _object(await read_json(request))
    service = _service(request)
    template = await service.get_template(_template_id(body))
    await _require_issuer_of(request, template.institution)
    issued = await service.issue_one(template.id, body, suite=body.get("suite") or "eddsa-rdfc-2022")
    return web.Response(text=issued.document, content_type="application/vc+ld+json", status=201 if issued.new else 200,
                        headers={"Location": issued.uri})


@routes.post("/batches")
async def issue_batch(request: web.Request) -> web.Response:
    """A batch from a JSON body {template, suite, rows: [{given_name, family_name, identifier, ...}]};
    re-posting the same rows resumes the same job and issues nothing twice."""
    import hashlib
    import json

    from node.issuance.batch import BatchIssuer

    await require_role(request, "issuer")  # authenticate before reading or validating anything
    body = _object(await read_json(request, max_bytes=LARGE_BODY_BYTES))
    rows = body.get("rows")
    if not isinstance(rows, list):
        raise InvalidInput("rows must be a JSON array of recipients")
    service = _service(request)
    template = await service.get_template(_template_id(body))
    await _require_issuer_of(request, template.institution)
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    numbered = ((i, row if isinstance(row, dict) else {"_invalid": row}) for i, row in enumerate(rows, start=1))
    credentials: list[dict[str, Any]] = []  # every good row's credential, issued now or before
    summary = await BatchIssuer(service).run(
        template.id, numbered, source_digest=digest, suite=body.get("suite") or "eddsa-rdfc-2022",
        on_credential=lambda issued: credentials.append({"line": issued.line, "id": issued.uri, "new": issued.new}))
    return web.json_response({**summary.to_json(), "batch": summary.batch_id,
                              "credentials": sorted(credentials, key=lambda c: c["line"] or 0)})


@routes.get("/batches/{batch_id}/credentials")
async def batch_credentials(request: web.Request) -> web.Response:
    """The credentials a batch issued, paged (?offset=0&limit=100), for the issuer of its institution."""
    from node.issuance.batch import BatchIssuer

    principal = await require_role(request, "issuer")  # authenticate before revealing anything about the batch
    service = _service(request)
    batch_id = request.match_info["batch_id"]
    progress = await BatchIssuer(service).progress(batch_id)
    template = await service.get_template(progress["template"])
    if not principal.acts_for_institution(template.institution):
        raise NotFound(f"no batch {batch_id}")  # another institution's batch: not even its existence
    offset = _query_int(request, "offset", 0, 0, 10**9)
    limit = _query_int(request, "limit", 100, 1, 1000)
    return web.json_response(await BatchIssuer(service).credentials(batch_id, offset=offset, limit=limit))


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
    return int(text)


@routes.get("/batches/{batch_id}")
async def batch_progress(request: web.Request) -> web.Response:
    from node.issuance.batch import BatchIssuer

    principal = await require_role(request, "issuer")  # authenticate before revealing anything about the batch
    progress = await BatchIssuer(_service(request)).progress(request.match_info["batch_id"])
    template = await _service(request).get_template(progress["template"])
    if not principal.acts_for_institution(template.institution):
        raise NotFound(f"no batch {request.match_info['batch_id']}")  # another institution's batch: not even its existence
    return web.json_response(progress)


async def _status_change(request: web.Request, action: str) -> web.Response:
    await require_role(request, "issuer")  # authenticate first: no token, no hint whether the credential exists
    service = _service(request)
    credential_id = request.match_info["credential_id"]
    await _require_issuer_of(request, await service.credential_institution(credential_id))
    body = _object(await read_json(request)) if request.can_read_body else {}
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be a string")
    return web.json_response(await service.change_status(credential_id, action, reason))


@routes.post("/credentials/{credential_id}/revoke")
async def revoke(request: web.Request) -> web.Response:
    return await _status_change(request, "revoke")


@routes.post("/credentials/{credential_id}/suspend")
async def suspend(request: web.Request) -> web.Response:
    return await _status_change(request, "suspend")


@routes.post("/credentials/{credential_id}/unsuspend")
async def unsuspend(request: web.Request) -> web.Response:
    return await _status_change(request, "unsuspend")


@routes.get("/credentials/{credential_id}/status")
async def credential_status(request: web.Request) -> web.Response:
    await require_role(request, "issuer")  # authenticate first: no token, no hint whether the credential exists
    service = _service(request)
    credential_id = request.match_info["credential_id"]
    await _require_issuer_of(request, await service.credential_institution(credential_id))
    return web.json_response(await service.credential_status(credential_id))


def setup_routes(app: web.Application) -> None:
    app.add_routes(routes)


def _op(summary: str, *, tag: str = "issuance", auth: bool = False, body: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {"200": {"description": "OK"}}}
    if auth:
        op["security"] = [{"bearerAuth": []}]
    if body:
        op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}, "description": body}
    return op


OPENAPI: dict[str, Any] = {
    "/status/{list_id}": {"get": _op("Signed BitstringStatusListCredential (ETag, max-age 60)")},
    "/credentials/{credential_id}": {"get": _op(
        "An issued credential, exact signed JSON at its own URL; with an issuer token (its institution) or operator "
        "token, the VC API getCredential by any id (credential.id or credentialId, URL-encoded): {verifiableCredential}")},
    "/credentials/{credential_id}/qr.png": {"get": _op("QR code (PNG) linking to the verification endpoint")},
    "/credentials/{credential_id}/qr.svg": {"get": _op("QR code (SVG) linking to the verification endpoint")},
    "/credentials/{credential_id}/credential.pdf": {"get": _op("One-page PDF with the claims and the QR code")},
    "/institutions": {"get": _op("Issuing institutions hosted here"),
                      "post": _op("Create an institution (operator)", auth=True,
                                  body="{slug, name, scope, logo_url, url, suspension}")},
    "/institutions/{slug}/status-purposes": {"put": _op(
        "Turn the 1-bit suspension entry of new credentials on or off (issuer of the institution)", auth=True,
        body="{suspension: true|false}")},
    "/templates": {"get": _op("Achievement templates"),
                   "post": _op("Create a template (issuer of its institution)", auth=True, body="template JSON")},
    "/achievements/{template_id}": {"get": _op("The OB3 Achievement of a template")},
    "/verify": {"post": _op("Verify a credential: proof, issuer, accreditation, status, validity, schema",
                            body="the credential (or {verifiableCredential})")},
    "/verify/{credential_id}": {"get": _op("Live verification of a credential issued here (QR target)")},
    "/credentials": {"post": _op("Issue one credential", auth=True, body="{template, given_name, family_name, identifier, suite}")},
    "/batches": {"post": _op("Issue a batch (resumable, idempotent per row)", auth=True, body="{template, suite, rows}")},
    "/batches/{batch_id}": {"get": _op("Batch progress", auth=True)},
    "/batches/{batch_id}/credentials": {"get": _op("Credentials issued by a batch, in row order (paged: offset, limit)",
                                                   auth=True)},
    "/credentials/{credential_id}/revoke": {"post": _op("Revoke (reason required)", auth=True, body="{reason}")},
    "/credentials/{credential_id}/suspend": {"post": _op("Suspend", auth=True, body="{reason}")},
    "/credentials/{credential_id}/unsuspend": {"post": _op("Lift a suspension", auth=True, body="{reason}")},
    "/credentials/{credential_id}/status": {"get": _op("State and status history", auth=True)},
}

# Typed request bodies (node/issuance/api_bodies.py) on the operations above.
from node.issuance.api_bodies import REQUEST_BODIES as _REQUEST_BODIES  # noqa: E402
from node.http.openapi import with_request_bodies as _with_request_bodies  # noqa: E402

OPENAPI = _with_request_bodies(OPENAPI, _REQUEST_BODIES)
