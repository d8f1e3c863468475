"""Bearer-token authorisation for admin writes.

`await require_role(request, "issuer")` returns the Principal or raises Unauthorized (401: no or
unknown token; the problem middleware adds WWW-Authenticate) / Forbidden (403: a valid token of
another role). An operator may do everything.
"""

from __future__ import annotations

from aiohttp import web

from node.errors import Forbidden, Unauthorized
from node.http.keys import PRINCIPAL, SERVICES
from node.tokens import Principal, authenticate

OPERATOR = "operator"


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
    return principal


async def require_role(request: web.Request, *roles: str) -> Principal:
    principal = await current_principal(request)
    if principal.role != OPERATOR and principal.role not in roles:
        raise Forbidden(f"this operation needs the role {' or '.join(roles)}; your token has the role {principal.role}")
    return principal
