"""One exception hierarchy for the whole node.

Each error carries a stable problem `type` (RFC 9457), an HTTP status and a CLI exit code, so the
HTTP layer and the command line report the same failure the same way.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://puente.example/problems/"


class PuenteError(Exception):
    slug = "error"
    title = "Error"
    status = 500
    exit_code = 1

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        problem.update(self.extensions)
        return problem


class InvalidInput(PuenteError):
    """The caller sent something malformed: not JSON, wrong shape, bad value."""

    slug = "invalid-input"
    title = "Invalid input"
    status = 400


class ValidationFailed(InvalidInput):
    """Input parsed but broke domain rules; `errors` lists each (line/path, message)."""

    slug = "validation-failed"
    title = "Validation failed"
    status = 422


class UnknownContext(InvalidInput):
    slug = "unknown-context"
    title = "Unknown JSON-LD context"


class NotFound(PuenteError):
    slug = "not-found"
    title = "Not found"
    status = 404


class Conflict(PuenteError):
    slug = "conflict"
    title = "Conflict"
    status = 409


class Unauthorized(PuenteError):
    slug = "unauthorized"
    title = "Authentication required"
    status = 401


class Forbidden(PuenteError):
    slug = "forbidden"
    title = "Forbidden"
    status = 403


class ForbiddenTransition(Conflict):
    slug = "forbidden-transition"
    title = "Transition not allowed"


class ConfigurationError(PuenteError):
    slug = "configuration"
    title = "Node configuration error"
    status = 500
    exit_code = 2


class NotInitialised(ConfigurationError):
    slug = "not-initialised"
    title = "Node not initialised"
    status = 503
