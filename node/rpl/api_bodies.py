"""JSON Schemas of the readiness and RPL API's request bodies, for the OpenAPI document.

The handlers and validators stay the authority on what is accepted; these say what a request looks like.
`actor` may repeat the token's holder but never name someone else (who acts comes from the token).
"""

from __future__ import annotations

from typing import Any

from node.rpl.model import APPEAL_OUTCOMES, OUTCOMES, STATES

_TEXT = {"type": "string", "minLength": 1}
_ACTOR = {"type": "string", "description": "optional; if given, must be the token's subject"}
SIGNED_ASSESSMENT = {
    "type": "object", "required": ["@context", "type", "issuer", "credentialSubject", "proof"],
    "description": "a signed readiness assessment (a verifiable credential with a Data Integrity proof)",
    "properties": {"@context": {"type": "array"}, "id": {"type": "string"}, "type": {"type": "array", "items": {"type": "string"}},
                   "issuer": {"oneOf": [{"type": "string"}, {"type": "object"}]}, "validFrom": {"type": "string"},
                   "credentialSubject": {"type": "object"},
                   "proof": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}},
}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


REQUEST_BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("post", "/readiness/catalogues"): {"description": "a checkpoint catalogue version (node/rpl/schemas/checkpoint-catalogue.schema.json)",
                                        "schema": _object(["id", "version", "checkpoints"], id=_TEXT, version=_TEXT,
                                                          title={"type": "string"}, source={"type": "object"},
                                                          checkpoints={"type": "array", "items": {"type": "object"}})},
    ("post", "/readiness/verify"): {"description": "a signed readiness assessment to verify", "schema": SIGNED_ASSESSMENT},
    ("post", "/readiness/{jurisdiction}/assessments"): {
        "description": "a jurisdiction's answers (node/rpl/schemas/readiness-answers.schema.json)",
        "schema": _object(["answers"], catalogue=_object(["id", "version"], id=_TEXT, version=_TEXT),
                          answers={"type": "array", "items": _object(["checkpoint", "answer"], checkpoint=_TEXT,
                                                                     answer=_TEXT,
                                                                     supportingEvidence={"type": "array",
                                                                                         "items": {"type": "object"}})})},
    ("post", "/readiness/{jurisdiction}/publish"): None,  # no body
    ("post", "/rpl/cases"): {"description": "open a case", "schema": _object(
        ["institution", "template", "identifier"], institution=_TEXT, template=_TEXT, givenName={"type": "string"},
        familyName={"type": "string"}, identifier={"type": "string", "description": "the candidate's did:key or e-mail"},
        reason={"type": "string"}, follows={"type": "string", "description": "id of an earlier case this one follows"},
        actor=_ACTOR)},
    ("post", "/rpl/cases/{case_id}/transitions"): {"description": "move the case to another state", "schema": _object(
        ["to", "reason"], to={"enum": list(STATES)}, reason=_TEXT,
        assessor={"type": "string", "description": "with to=assessment_planned"},
        method={"type": "string", "description": "with to=assessment_planned"}, actor=_ACTOR)},
    ("post", "/rpl/cases/{case_id}/decision"): {"description": "the assessor's decision", "schema": _object(
        ["outcome", "reason"], outcome={"enum": list(OUTCOMES)}, reason=_TEXT,
        units={"type": "array", "items": {"type": "string"}, "description": "with outcome=partial: the certified units"},
        actor=_ACTOR)},
    ("post", "/rpl/cases/{case_id}/appeal"): {"description": "lodge an appeal", "schema": _object(
        ["reviewer", "reason"], reviewer={"type": "string", "description": "never the assessor"}, reason=_TEXT,
        actor=_ACTOR)},
    ("post", "/rpl/cases/{case_id}/appeal/resolution"): {"description": "the reviewer's resolution", "schema": _object(
        ["outcome", "reason"], outcome={"enum": list(APPEAL_OUTCOMES)}, reason=_TEXT, actor=_ACTOR)},
    ("post", "/rpl/cases/{case_id}/evidence"): {"description": "evidence: stored here (contentBase64) or kept elsewhere (url + sha256)",
                                                "schema": _object(["name", "mediaType"], name=_TEXT, mediaType=_TEXT,
                                                                  contentBase64={"type": "string", "contentEncoding": "base64"},
                                                                  url={"type": "string", "format": "uri"},
                                                                  sha256={"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                                                  actor=_ACTOR)},
}
