"""The aiohttp application factory: the single place where the HTTP node is wired together.

Services are opened in `cleanup_ctx` (and closed on shutdown) unless the caller passes them in, as the
test fixtures do to share one set of services between the test and the server. Each capability
contributes routes and an OpenAPI fragment through its `routes.py`; one not built yet is simply absent.
"""

from __future__ import annotations

from types import ModuleType
from typing import AsyncIterator

from aiohttp import web

from node.clock import Clock
from node.http.keys import OPENAPI_DOCUMENT, SERVICES, SETTINGS
from node.http.openapi import build_openapi
from node.http.params import input_guard_middleware
from node.http.problems import problem_middleware
from node.http.safety import add_security_headers
from node.http.request_log import request_log_middleware
from node.optional import import_optional
from node.services import NodeServices
from node.settings import Settings

ROUTE_MODULES = (
    "node.http.core_routes",
    "node.http.audit_routes",
    "node.framework.routes",
    "node.rpl.routes",
    "node.vcapi.routes",  # the W3C CCG VC API; GET /credentials/{id} with a token is in issuance.routes
    "node.issuance.routes",
    "node.federation.routes",
)

# Batch issuance posts thousands of rows in one body; aiohttp's default limit is 1 MiB.
MAX_BODY_BYTES = 32 * 1024 * 1024


def create_app(settings: Settings, *, clock: Clock | None = None, services: NodeServices | None = None) -> web.Application:
    # The request log is outermost so it records the status the problem middleware produced.
    # The input guard sits inside the problem middleware, so a NUL in a URL is a 400 problem+json.
    app = web.Application(middlewares=[request_log_middleware, problem_middleware, input_guard_middleware],
                          client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app.on_response_prepare.append(add_security_headers)  # nosniff on every response
    if services is None:
        app.cleanup_ctx.append(_open_services(settings, clock))
    else:
        app[SERVICES] = services
    fragments = []
    for module in route_modules():
        module.setup_routes(app)
        fragments.append(getattr(module, "OPENAPI", {}))
    app[OPENAPI_DOCUMENT] = build_openapi(fragments)
    return app


async def gunicorn_app() -> web.AppRunner:
    """The node for gunicorn's aiohttp worker, one per worker process (docs/operator.md, section 8):

        gunicorn node.app:gunicorn_app --worker-class aiohttp.GunicornWebWorker --workers 2 --bind 127.0.0.1:8080

    Settings come from the environment and node.json as for `puente serve` (PUENTE_DATA_DIR, ...), and the
    node must be initialised. A runner, not an app, so the worker keeps `puente serve`'s choices: a client that
    disconnects cancels its handler (and its canonicalization worker), and no aiohttp access log (the node
    logs each request itself, without paths or queries)."""
    from node.logging import configure_logging
    from node.node_setup import require_initialised
    from node.settings import load_settings

    settings = require_initialised(load_settings())
    configure_logging(settings)
    return web.AppRunner(create_app(settings), access_log=None, handler_cancellation=True)


def route_modules() -> list[ModuleType]:
    return [module for module in map(import_optional, ROUTE_MODULES) if module is not None]


def _open_services(settings: Settings, clock: Clock | None):
    async def context(app: web.Application) -> AsyncIterator[None]:
        from node.services import open_services

        async with open_services(settings, clock) as services:
            app[SERVICES] = services
            yield

    return context
