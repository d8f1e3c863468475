"""HTTP: the audit trail of every write, for the node's operators (`GET /audit`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.audit import list_events, parse_limit, parse_since
from node.http.auth import OPERATOR, require_role
from node.http.keys import SERVICES


async def audit(request: web.Request) -> web.Response:
    await require_role(request, OPERATOR)
    since, limit = parse_since(request.query.get("since")), parse_limit(request.query.get("limit"))
    async with request.app[SERVICES].uow() as uow:
        events = await list_events(uow.session, since=since, subject=request.query.get("subject") or None, limit=limit)
    return web.json_response(events, headers={"Cache-Control": "no-store"})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/audit", audit)


_EVENT = {"type": "object", "required": ["id", "at", "subject", "role", "scope", "action", "object"],
          "properties": {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                         "subject": {"type": "string", "description": "the person who holds the token (or runs the CLI)"},
                         "role": {"enum": ["ministry", "issuer", "operator", "system"]},
                         "scope": {"type": ["string", "null"], "description": "jurisdiction:GT, institution:intecap, or null (the whole node)"},
                         "action": {"type": "string", "examples": ["framework.publish", "credential.revoke", "rpl.case.decision"]},
                         "object": {"type": "string", "description": "the id of what was written (never personal data)"}}}

OPENAPI: dict[str, Any] = {
    "/audit": {"get": {
        "summary": "The audit trail: who (subject, role, scope) wrote what (action, object id) and when, newest first (operator)",
        "operationId": "auditList", "tags": ["audit"], "security": [{"bearerAuth": []}],
        "parameters": [
            {"name": "since", "in": "query", "schema": {"type": "string"}, "description": "a date or a date-time with offset"},
            {"name": "subject", "in": "query", "schema": {"type": "string"}, "description": "only this person's writes"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
        ],
        "responses": {"200": {"description": "audit events", "content": {"application/json": {"schema": {"type": "array", "items": _EVENT}}}},
                      "400": {"description": "bad since or limit"}, "401": {"description": "no or unknown token"},
                      "403": {"description": "not an operator token"}},
    }},
}
