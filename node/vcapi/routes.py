"""HTTP for the VC API (W3C CCG, now VCALM). Issuer token: issue, change status, read. Public: verify.

The same principals (an issuer token acts for its institution, an operator for all), body limits
(node.http.io.read_json) and verification pipeline (node.issuance.verify.public_verifier) as the node's
own routes; `POST /credentials`, `POST /verify` and `POST /credentials/{id}/revoke|suspend|unsuspend` stay.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import NotFound
from node.http.auth import require_role
from node.http.io import read_json
from node.http.keys import SERVICES
from node.http.openapi import BEARER, problem_ref, with_request_bodies
from node.vcapi import model

routes = web.RouteTableDef()


def _issuance(request: web.Request):
    from node.issuance.service import IssuanceService
    from node.vcapi.service import VcApiIssuance

    return VcApiIssuance(IssuanceService.from_services(request.app[SERVICES]))


@routes.post("/credentials/issue")
async def issue(request: web.Request) -> web.Response:
    principal = await require_role(request, "issuer")  # authenticate before reading or validating anything
    from node.http.auth import require_institution

    order = model.issue_order(await read_json(request))
    vc = _issuance(request)
    template_id, institution = await vc.template_institution(order.credential)
    require_institution(principal, institution)
    issued = await vc.issue(order, template_id)
    return web.json_response({"verifiableCredential": issued.to_json()}, status=201)


@routes.post("/credentials/verify")
async def verify(request: web.Request) -> web.Response:
    from node.issuance.verify import verify_credential

    order = model.verify_order(await read_json(request))
    result = await verify_credential(request.app[SERVICES], order.credential)
    return web.json_response(model.verify_answer(order, result))


@routes.post("/presentations/verify")
async def verify_presentation(request: web.Request) -> web.Response:
    raise model.NotImplementedYet(
        "verifying presentations is not implemented on this node yet (it comes with skills passports); "
        "verify each credential with POST /credentials/verify")


@routes.post("/credentials/status")
async def update_status(request: web.Request) -> web.Response:
    principal = await require_role(request, "issuer")  # authenticate first: no token, no hint a credential exists
    order = model.status_order(await read_json(request))
    vc = _issuance(request)
    row = await vc.stored(order.credential_id)
    if not principal.acts_for_institution(row.institution):
        raise NotFound(f"no credential {order.credential_id!r} issued by this node")  # not even its existence
    return web.json_response(await vc.issuance.change_status(row.id, order.action, order.reason))


async def get_credential(request: web.Request, reference: str) -> web.Response:
    """VC API getCredential (`GET /credentials/{id}` with a token): `{verifiableCredential}` for the issuer of
    its institution or an operator; 404 for anyone else. A credential holds personal data."""
    import json

    principal = await require_role(request, "issuer")
    row = await _issuance(request).stored(reference)
    if not principal.acts_for_institution(row.institution):
        raise NotFound(f"no credential {reference!r} issued by this node")
    return web.json_response({"verifiableCredential": json.loads(row.document)}, headers={"Cache-Control": "no-store"})


def setup_routes(app: web.Application) -> None:
    app.add_routes(routes)


def _op(summary: str, *, auth: bool, ok: str, description: str, responses: dict[str, str]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": ["vc-api"], "description": description,
                          "responses": {ok: {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                                        **{code: problem_ref(text) for code, text in responses.items()}}}
    if auth:
        op["security"] = BEARER
    return op


OPENAPI: dict[str, Any] = {
    "/credentials/issue": {"post": _op(
        "VC API issueCredential: sign {credential, options} as the token's institution", auth=True, ok="201",
        description="Answers {verifiableCredential}. The credential's achievement must be one of the institution's "
                    "(credentialSubject.achievement.id = <node>/achievements/<template>); issuer is set to the "
                    "institution when absent and must be it otherwise; status entries are added by the node. Options: "
                    "credentialId, created, cryptosuite (eddsa-rdfc-2022 default, eddsa-jcs-2022); any other is 400.",
        responses={"400": "Malformed request, unknown option or non-conforming credential (errors lists each violation)",
                   "401": "No or unknown token", "403": "The token acts for another institution",
                   "404": "No such achievement", "409": "A credential with this id exists"})},
    "/credentials/verify": {"post": _op(
        "VC API verifyCredential: the node's one verification pipeline", auth=False, ok="200",
        description="Answers {verified, checks, warnings, errors, problemDetails}; a credential that fails is 200 with "
                    "verified false. options.checks names optional groups (status, validity, schema, accreditation) "
                    "that count; proof, issuer and document checks always count. Unknown options are 400.",
        responses={"400": "Malformed request or unknown option", "413": "Body too large"})},
    "/presentations/verify": {"post": _op(
        "VC API verifyPresentation: not implemented until skills passports (501)", auth=False, ok="200",
        description="Always 501 problem+json for now.", responses={"501": "Not implemented yet"})},
    "/credentials/status": {"post": _op(
        "VC API updateCredentialStatus: revoke, suspend or unsuspend", auth=True, ok="200",
        description="{credentialId, credentialStatus: {type: BitstringStatusListEntry, statusPurpose}, status}. "
                    "revocation + true revokes (permanent); suspension + true/false suspends/lifts.",
        responses={"400": "Malformed request", "401": "No or unknown token",
                   "404": "No such credential of this token's institution", "409": "Transition not allowed"})},
}

from node.vcapi.api_bodies import REQUEST_BODIES as _REQUEST_BODIES  # noqa: E402

OPENAPI = with_request_bodies(OPENAPI, _REQUEST_BODIES)
