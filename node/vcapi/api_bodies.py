"""JSON Schemas of the VC API's request bodies (VCALM oas.yaml), for the OpenAPI document. The handlers
(node/vcapi/model.py) stay the authority on what is accepted."""

from __future__ import annotations

from typing import Any

from node.issuance.api_bodies import CREDENTIAL
from node.vcapi.model import CHECK_NAMES, SUITES

_UNSECURED = {k: v for k, v in CREDENTIAL.items() if k != "description"} | {"description": "an unsecured credential"}

REQUEST_BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("post", "/credentials/issue"): {"description": "IssueCredentialRequest", "schema": {
        "type": "object", "required": ["credential"], "additionalProperties": False, "properties": {
            "credential": _UNSECURED,
            "options": {"type": "object", "additionalProperties": False, "properties": {
                "credentialId": {"type": "string"}, "created": {"type": "string", "format": "date-time"},
                "cryptosuite": {"enum": list(SUITES)}}}}}},
    ("post", "/credentials/verify"): {"description": "VerifyCredentialRequest", "schema": {
        "type": "object", "required": ["verifiableCredential"], "additionalProperties": False, "properties": {
            "verifiableCredential": CREDENTIAL,
            "options": {"type": "object", "additionalProperties": False, "properties": {
                "checks": {"type": "array", "items": {"enum": list(CHECK_NAMES)}},
                "returnResults": {"type": "boolean"}, "returnProblemDetails": {"type": "boolean"},
                "returnCredential": {"type": "boolean"}}}}}},
    ("post", "/presentations/verify"): {"description": "VerifyPresentationRequest (answered 501 for now)", "schema": {
        "type": "object", "properties": {"verifiablePresentation": {"type": "object"}, "options": {"type": "object"}}}},
    ("post", "/credentials/status"): {"description": "UpdateCredentialStatusRequest", "schema": {
        "type": "object", "required": ["credentialId", "credentialStatus", "status"], "additionalProperties": False,
        "properties": {
            "credentialId": {"type": "string"},
            "credentialStatus": {"type": "object", "required": ["type", "statusPurpose"], "properties": {
                "type": {"enum": ["BitstringStatusListEntry", "BitstringStatusList"]},
                "statusPurpose": {"enum": ["revocation", "suspension"]}}},
            "status": {"type": "boolean"}, "reason": {"type": "string"}}}},
}
