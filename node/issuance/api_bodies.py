"""JSON Schemas of the issuance API's request bodies, for the OpenAPI document.

The handlers and validators stay the authority on what is accepted; these say what a request looks like.
"""

from __future__ import annotations

from typing import Any

from node.issuance.model import OPTIONAL_COLUMNS

SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
_TEXT = {"type": "string", "minLength": 1}
RECIPIENT = {"type": "object", "required": ["identifier"], "properties": {
    "given_name": {"type": "string"}, "family_name": {"type": "string"},
    "identifier": {"type": "string", "description": "the learner's did:key, or an e-mail (stored only as a salted hash)"},
    **{column: {"type": "string"} for column in OPTIONAL_COLUMNS}}}
CREDENTIAL = {
    "type": "object", "required": ["@context", "type"],
    "description": "a verifiable credential (or {\"verifiableCredential\": credential})",
    "properties": {"@context": {"type": "array"}, "id": {"type": "string"}, "type": {"type": "array", "items": {"type": "string"}},
                   "issuer": {"oneOf": [{"type": "string"}, {"type": "object"}]}, "validFrom": {"type": "string"},
                   "validUntil": {"type": "string"}, "credentialSubject": {"type": "object"},
                   "credentialStatus": {"oneOf": [{"type": "object"}, {"type": "array"}]},
                   "proof": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
                   "verifiableCredential": {"type": "object"}},
}
_REASON = {"description": "why (kept in the credential's status history)", "required": False,
           "schema": {"type": "object", "properties": {"reason": {"type": "string"}}}}

REQUEST_BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("post", "/institutions"): {"description": "an institution hosted here (operator)", "schema": {
        "type": "object", "required": ["slug", "name"], "properties": {
            "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}, "name": _TEXT,
            "scope": {"type": "object", "properties": {"sectors": {"type": "array", "items": {"type": "string"}},
                                                       "isco_groups": {"type": "array", "items": {"type": "string"}},
                                                       "rqf_levels": {"type": "array", "items": {"type": "integer"}}}},
            "logo_url": {"type": "string", "format": "uri"}, "url": {"type": "string", "format": "uri"},
            "suspension": {"type": "boolean", "default": False}}}},
    ("put", "/institutions/{slug}/status-purposes"): {"description": "whether new credentials get a suspension entry",
                                                      "schema": {"type": "object", "required": ["suspension"],
                                                                 "properties": {"suspension": {"type": "boolean"}}}},
    ("post", "/templates"): {"description": "an achievement template", "schema": {
        "type": "object", "required": ["id", "institution", "name"], "properties": {
            "id": _TEXT, "institution": _TEXT, "name": _TEXT, "description": {"type": "string"},
            "qualification_code": {"type": "string"}, "qualification_title": {"type": "string"},
            "framework_id": {"type": "string"}, "national_level": {"type": "string"}, "rqf_level": {"type": "integer"},
            "sector": {"type": "string"}, "isco_code": {"type": "string"},
            "esco_skills": {"type": "array", "items": {"type": "string"}},
            "learning_outcomes": {"type": "array", "items": {"type": "string"}},
            "validity": {"type": "string", "description": "ISO 8601 duration, e.g. P5Y"}}}},
    ("post", "/verify"): {"description": "the credential to verify", "schema": CREDENTIAL},
    ("post", "/credentials"): {"description": "one recipient of a template", "schema": {
        "type": "object", "required": ["template", "identifier"],
        "properties": {"template": _TEXT, "suite": {"enum": SUITES}, **RECIPIENT["properties"]}}},
    ("post", "/batches"): {"description": "recipients of a template (re-posting the same rows resumes the batch)", "schema": {
        "type": "object", "required": ["template", "rows"],
        "properties": {"template": _TEXT, "suite": {"enum": SUITES}, "rows": {"type": "array", "items": RECIPIENT}}}},
    ("post", "/credentials/{credential_id}/revoke"): {**_REASON, "required": True, "schema": {
        "type": "object", "required": ["reason"], "properties": {"reason": _TEXT}}},
    ("post", "/credentials/{credential_id}/suspend"): _REASON,
    ("post", "/credentials/{credential_id}/unsuspend"): _REASON,
}
