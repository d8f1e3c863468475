"""JSON Schemas of the framework API's request bodies, for the OpenAPI document (docs, client generators).

The handlers and the import/publication validators stay the authority on what is accepted; these say
what a request looks like.
"""

from __future__ import annotations

from typing import Any

from node.framework.model import RELATIONS

_TEXT = {"type": "string", "minLength": 1}
SIGNED_DOCUMENT = {
    "type": "object", "required": ["@context", "type", "issuer", "credentialSubject", "proof"],
    "description": "a signed framework publication (a verifiable credential with a Data Integrity proof), exact bytes",
    "properties": {"@context": {"type": "array"}, "id": {"type": "string"}, "type": {"type": "array", "items": {"type": "string"}},
                   "issuer": {"oneOf": [{"type": "string"}, {"type": "object"}]}, "validFrom": {"type": "string"},
                   "credentialSubject": {"type": "object"},
                   "proof": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}},
}
FROM = {"type": "object", "description": "the national level or qualification to map (one of the two)",
        "properties": {"level": {"type": ["string", "integer"]}, "qualification": {"type": "string"}}}

REQUEST_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/framework/import"): {"description": "the import document (or text/csv; see docs/formats/framework-import.md)",
                                    "schema": {"type": "object", "required": ["framework"], "properties": {
                                        "framework": {"type": "object", "required": ["id", "version"], "properties": {
                                            "id": _TEXT, "version": _TEXT, "kind": {"enum": ["national", "regional", "reference"]},
                                            "jurisdiction": {"type": "string", "pattern": "^[A-Z]{2}$"},
                                            "title": {"type": "string"}}},
                                        "levels": {"type": "array", "items": {"type": "object"}},
                                        "qualifications": {"type": "array", "items": {"type": "object"}},
                                        "mappings": {"type": "array", "items": {"type": "object"}}}},
                                    "csv": True},
    ("post", "/framework/publications"): {"description": "a peer's signed framework publication", "schema": SIGNED_DOCUMENT},
    ("post", "/framework/verify"): {"description": "a signed framework publication to verify", "schema": SIGNED_DOCUMENT},
    ("post", "/framework/{framework_id}/mappings"): {"description": "one mapping row (its author is the token's holder)",
                                                     "schema": {"type": "object", "required": ["from", "relation", "rationale"],
                                                                "properties": {
        "target": {"type": "string", "default": "rqf"}, "from": FROM, "to": {"type": ["string", "integer"]},
        "relation": {"enum": list(RELATIONS)}, "rationale": _TEXT, "evidence": {"type": "string", "format": "uri"},
        "author": {"type": "string", "description": "optional; if given, must be the token's subject"}}}},
    ("post", "/framework/{framework_id}/approve"): {"description": "which rows to approve (default: all waiting)", "required": False,
                                                    "schema": {"type": "object", "properties": {
        "target": {"type": "string"}, "level": {"type": ["string", "integer"]}, "qualification": {"type": "string"},
        "approver": {"type": "string", "description": "optional; if given, must be the token's subject"}}}},
    ("post", "/framework/{framework_id}/publish"): None,  # no body: the target is a query parameter
}
