"""RFC 9457 problem+json for every error the HTTP edge answers.

PuenteError → its own type/title/status/detail (plus extensions such as `errors`); aiohttp's
HTTPException (404 for an unknown route, 405, 413 ...) → a problem with `type: about:blank`;
anything unexpected → a 500 problem that reveals nothing internal, with the request id to find
the logged traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from sqlalchemy.exc import TimeoutError as PoolTimeout

from node.errors import PROBLEM_BASE, PuenteError
from node.http.keys import REQUEST_ID
from node.logging import get_logger, log_event

PROBLEM_JSON = "application/problem+json"
_log = get_logger("node.http")
# Headers of an aiohttp HTTPException worth keeping on the problem response (e.g. Allow on 405).
_KEPT_HEADERS = ("Allow", "Location", "Retry-After")


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps(problem, ensure_ascii=False, default=str).encode("utf-8")
    response = web.Response(status=int(problem["status"]), body=body, headers=headers or {})
    response.content_type = PROBLEM_JSON
    return response


@web.middleware
async def problem_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PuenteError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(exc.to_problem(instance=request.path), headers)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and 304 are answers, not problems
            raise
        problem = {"type": "about:blank", "title": exc.reason, "status": exc.status,
                   "detail": _http_detail(exc), "instance": request.path}
        return problem_response(problem, {k: exc.headers[k] for k in _KEPT_HEADERS if k in exc.headers})
    except (asyncio.CancelledError, ConnectionResetError):
        raise  # the client went away; nothing to answer
    except PoolTimeout:
        # Every connection of this process's pool stayed busy for PUENTE_DB_POOL_TIMEOUT seconds: the process
        # is overloaded (or its pool too small for its load), which is a 503 to retry, not an internal error.
        log_event(_log, "database_pool_exhausted", level=logging.WARNING, method=request.method, path=request.path,
                  request_id=request.get(REQUEST_ID, ""))
        return problem_response({
            "type": PROBLEM_BASE + "database-busy", "title": "Database busy", "status": 503,
            "detail": "every database connection of this process stayed busy; try again shortly",
            "instance": request.path}, {"Retry-After": "1"})
    except Exception:
        request_id = request.get(REQUEST_ID, "")
        log_event(_log, "unhandled_error", level=logging.ERROR, exc_info=True,
                  method=request.method, path=request.path, request_id=request_id)
        return problem_response({
            "type": PROBLEM_BASE + "internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": f"an unexpected error occurred; the node operator can find it in the logs (request id {request_id})",
            "instance": request.path,
        })


def _http_detail(exc: web.HTTPException) -> str:
    text = (exc.text or "").strip()
    # aiohttp's default body is "<status>: <reason>"; say something more useful for the usual cases.
    if exc.status == 404 and (not text or text.startswith("404")):
        return "no resource at this path"
    if exc.status == 405 and (not text or text.startswith("405")):
        return f"method not allowed here; allowed: {exc.headers.get('Allow', 'none')}"
    return text or exc.reason
