"""The node's OpenAPI 3.1 document, merged from each route module's `OPENAPI` dict.

A module's `OPENAPI` is either a mapping of path → path item (`{"/health": {"get": {...}}}`) or
a fragment `{"paths": {...}, "components": {...}}`. Shared pieces every module may `$ref`:
`#/components/schemas/Problem`, `#/components/responses/{BadRequest,Unauthorized,Forbidden,NotFound,
Conflict,ValidationFailed}` and the `bearerAuth` security scheme (`BEARER`); `with_request_bodies` adds typed
request bodies to a fragment. A `{name}` in a path that no operation
declares becomes a required string path parameter, so the document stays valid OpenAPI 3.1.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterable

from node import __version__
from node.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized, ValidationFailed

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "row-level errors (validation-failed)"},
    },
}


# The one security scheme: every protected operation says `"security": [{"bearerAuth": []}]`.
SECURITY_SCHEME = "bearerAuth"
BEARER = [{SECURITY_SCHEME: []}]


def with_request_bodies(fragment: dict[str, Any], bodies: dict[tuple[str, str], dict[str, Any] | None]) -> dict[str, Any]:
    """A copy of a module's OPENAPI fragment with each (method, path)'s requestBody set from `bodies`:
    {"schema", "description"?, "required"? (default True), "csv"? (also accepts text/csv)}; None: no body."""
    fragment = copy.deepcopy(fragment)
    paths = fragment["paths"] if "paths" in fragment else fragment
    for (method, path), body in bodies.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue  # the completeness test reports bodies that name no operation
        if body is None:
            operation.pop("requestBody", None)
            continue
        content: dict[str, Any] = {"application/json": {"schema": body["schema"]}}
        if body.get("csv"):
            content["text/csv"] = {"schema": {"type": "string"}}
        operation["requestBody"] = {"required": body.get("required", True), "content": content,
                                    **({"description": body["description"]} if body.get("description") else {})}
    return fragment


def problem_ref(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def base_document() -> dict[str, Any]:
    responses = {error.__name__ if error is not InvalidInput else "BadRequest": problem_ref(error.title)
                 for error in (InvalidInput, Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Puente node", "version": __version__,
                 "description": "A node of the federated Latin American and Caribbean skills-recognition network."},
        "paths": {},
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "responses": responses,
            "securitySchemes": {SECURITY_SCHEME: {"type": "http", "scheme": "bearer",
                                           "description": "API token (roles: ministry, issuer, operator)"}},
        },
    }


def build_openapi(fragments: Iterable[dict[str, Any]]) -> dict[str, Any]:
    document = base_document()
    for fragment in fragments:
        fragment = copy.deepcopy(fragment or {})
        if "paths" in fragment or "components" in fragment:
            paths, components = fragment.get("paths", {}), fragment.get("components", {})
        else:
            paths, components = fragment, {}
        for path, item in paths.items():
            document["paths"].setdefault(path, {}).update(item)
        for section, entries in components.items():
            document["components"].setdefault(section, {}).update(entries)
    for path, item in document["paths"].items():
        _declare_path_parameters(path, item)
    return document


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _declare_path_parameters(path: str, item: dict[str, Any]) -> None:
    declared_everywhere = {p.get("name") for p in item.get("parameters", []) if p.get("in") == "path"}
    operations = [op for method, op in item.items() if method in _HTTP_METHODS and isinstance(op, dict)]
    for name in re.findall(r"\{([^}]+)\}", path):
        if name in declared_everywhere:
            continue
        if operations and all(any(p.get("in") == "path" and p.get("name") == name for p in op.get("parameters", []))
                              for op in operations):
            continue
        parameters = item.setdefault("parameters", [])
        parameters.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
        declared_everywhere.add(name)
