"""One structured log line per request: method, path, status, duration, request id.

Only the route is logged, as its pattern (`/credentials/{credential_id}`, not the id): query strings and
headers (Authorization above all) may carry secrets, and a path may carry whatever a client typed into
it, a person's name included. A request no route matched is logged as `(no route)`.
"""

from __future__ import annotations

import random
import time

from aiohttp import web

from node.http.keys import REQUEST_ID
from node.logging import get_logger, log_event

_log = get_logger("node.http.access")


@web.middleware
async def request_log_middleware(request: web.Request, handler) -> web.StreamResponse:
    # A correlation id, not a secret: no system call (uuid4 reads os.urandom) on every request.
    request_id = f"{random.getrandbits(64):016x}"
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as exc:  # 304s and redirects raised by handlers
        status = exc.status
        raise
    finally:
        log_event(_log, "request", method=request.method, path=_route_of(request), status=status,
                  duration_ms=round((time.perf_counter() - started) * 1000, 2), request_id=request_id)


def _route_of(request: web.Request) -> str:
    route = getattr(request.match_info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "(no route)"
