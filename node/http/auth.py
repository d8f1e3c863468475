"""Bearer-token authorisation for admin writes.

`await require_role(request, "issuer")` returns the Principal or raises Unauthorized (401: no or
unknown token; the problem middleware adds WWW-Authenticate) / Forbidden (403: a valid token of
another role). An operator may do everything. Then the scope: `require_institution(principal, slug)`
and `require_jurisdiction(principal, code)` raise Forbidden unless the token acts for it.

Authentication also makes the principal the acting one for the rest of the request (the audit trail
records it with every write).
"""

from __future__ import annotations

from aiohttp import web

from node.errors import Forbidden, Unauthorized
from node.http.keys import PRINCIPAL, SERVICES
from node.tokens import OPERATOR, Principal, authenticate, set_acting

__all__ = ["OPERATOR", "current_principal", "require_institution", "require_jurisdiction", "require_role"]


async def current_principal(request: web.Request) -> Principal:
    if PRINCIPAL in request:
        return request[PRINCIPAL]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("this operation needs an API token: send Authorization: Bearer <token>")
    services = request.app[SERVICES]
    async with services.uow() as uow:
        principal = await authenticate(uow, token)
    if principal is None:
        raise Unauthorized("the API token is unknown or revoked")
    request[PRINCIPAL] = principal
    set_acting(principal)  # this handler's task: every audit row it writes names this principal
    return principal


async def require_role(request: web.Request, *roles: str) -> Principal:
    principal = await current_principal(request)
    if principal.role != OPERATOR and principal.role not in roles:
        raise Forbidden(f"this operation needs the role {' or '.join(roles)}; your token has the role {principal.role}")
    return principal


def require_institution(principal: Principal, institution: str | None) -> Principal:
    """An issuer token acts for its own institution only; an operator for all."""
    if not principal.acts_for_institution(institution):
        mine = principal.institution or "no institution"
        raise Forbidden(f"this token acts for {mine}, not for institution {institution!r}")
    return principal


def require_jurisdiction(principal: Principal, jurisdiction: str | None) -> Principal:
    """A ministry token acts for its own jurisdiction only; an operator for all."""
    if not principal.acts_for_jurisdiction(jurisdiction):
        mine = principal.jurisdiction or "no jurisdiction"
        raise Forbidden(f"this token acts for {mine}, not for jurisdiction {jurisdiction!r}")
    return principal
