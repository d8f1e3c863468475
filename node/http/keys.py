"""Typed application keys (no string keys on the app)."""

from aiohttp import web

from node.services import NodeServices
from node.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", NodeServices)
OPENAPI_DOCUMENT = web.AppKey("openapi_document", dict)

# Per-request values set by middlewares and auth.
REQUEST_ID = web.RequestKey("request_id", str)
PRINCIPAL = web.RequestKey("principal", object)  # node.tokens.Principal, cached after the first lookup
