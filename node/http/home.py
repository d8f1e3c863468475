"""`GET /`: what this node is, for people (a small HTML page) and for programs (JSON).

A person who types the node's address into a browser should learn what it is and where to go (how to
check a credential, the node's DID, the API description) rather than get a 404 problem document.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from node import __version__
from node.http.keys import SERVICES

LINKS = {
    "verify": "/verify",
    "verify_issued": "/verify/{credential_id}",
    "did": "/.well-known/did.json",
    "openapi": "/openapi.json",
    "health": "/health",
    "institutions": "/institutions",
}


def node_summary(services) -> dict[str, Any]:
    settings = services.settings
    return {"name": settings.name, "jurisdiction": settings.jurisdiction, "did": services.keystore.node_did,
            "version": __version__, "base_url": settings.base_url, "links": dict(LINKS)}


def wants_html(request: web.Request) -> bool:
    """A browser asks for text/html first; programs (and a missing Accept) get JSON."""
    accept = [part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")]
    return "text/html" in accept and ("application/json" not in accept
                                      or accept.index("text/html") < accept.index("application/json"))


def home_page(summary: dict[str, Any]) -> str:
    name = escape(summary["name"] or "Nodo Puente")
    jurisdiction = escape(summary["jurisdiction"] or "")
    did = escape(summary["did"])
    return (
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{name}</title><style>body{{font-family:sans-serif;max-width:40em;margin:1em auto;padding:0 1em;"
        "overflow-wrap:anywhere}code{background:#f3f3f3;padding:0 .2em}</style></head><body>"
        f"<h1>{name}</h1>"
        f"<p>Nodo de la red Puente de reconocimiento de competencias ({jurisdiction}): emite y verifica credenciales "
        "Open Badges 3.0 de instituciones acreditadas. <i>A node of the Puente skills-recognition network: it issues "
        "and verifies Open Badges 3.0 credentials of accredited institutions.</i></p>"
        "<h2>Verificar una credencial / Verify a credential</h2>"
        "<p>Escanee el código QR de la credencial o abra <code>/verify/&lt;id de la credencial&gt;</code>. "
        "Los programas envían la credencial con <code>POST /verify</code>.</p>"
        "<ul>"
        f"<li><a href=\"/.well-known/did.json\">Identidad del nodo (DID)</a>: <code>{did}</code></li>"
        "<li><a href=\"/institutions\">Instituciones emisoras</a></li>"
        "<li><a href=\"/openapi.json\">API (OpenAPI 3.1)</a></li>"
        "<li><a href=\"/health\">Estado del nodo</a></li>"
        "</ul>"
        f"<p><small>Puente {escape(summary['version'])}</small></p></body></html>"
    )


async def home(request: web.Request) -> web.Response:
    summary = node_summary(request.app[SERVICES])
    headers = {"Vary": "Accept", "Cache-Control": "public, max-age=300"}
    if wants_html(request):
        return web.Response(text=home_page(summary), content_type="text/html", headers=headers)
    return web.json_response(summary, headers=headers)


OPENAPI = {
    "/": {"get": {
        "summary": "What this node is: an HTML page for browsers (Accept: text/html), JSON otherwise",
        "operationId": "home",
        "responses": {"200": {"description": "node name, jurisdiction, DID and links", "content": {
            "application/json": {"schema": {
                "type": "object", "required": ["name", "jurisdiction", "did", "version", "links"],
                "properties": {"name": {"type": ["string", "null"]}, "jurisdiction": {"type": ["string", "null"]},
                               "did": {"type": "string"}, "version": {"type": "string"},
                               "base_url": {"type": ["string", "null"]},
                               "links": {"type": "object", "additionalProperties": {"type": "string"}}}}},
            "text/html": {"schema": {"type": "string"}}}}}}},
}
