"""JSON Schema validation of what the issuer publishes (bundled schemas; never fetched).

`ob_v3p0_achievementcredential.json` is 1EdTech's OB 3.0 AchievementCredential schema, unmodified (a
test compares it byte for byte with the conformance copy): Puente credentials fit it as published, with
a single `credentialStatus` object (the 1-bit revocation entry). The one documented exception: where an
institution turned suspension on, `credentialStatus` is an array of two 1-bit entries, which the schema
(one object) refuses; `ob3_schema_errors` checks such a credential with each entry in place instead.

`schema_errors` is the authoritative check (jsonschema, draft 2019-09, as the schemas declare).
`is_valid_fast` guards the batch hot path: the same schema compiled to Python code by fastjsonschema
(20x faster). It compiles as draft-07, which is exact for these schemas because they use no keyword
whose meaning differs between the drafts (tests/unit/issuance/test_schema.py checks that, and checks
both validators agree on valid and broken credentials); any doubt is settled by `schema_errors`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from jsonschema import Draft201909Validator

ACHIEVEMENT_CREDENTIAL = "ob_v3p0_achievementcredential.json"
DRAFT7_SAFE_KEYWORDS = {
    "$comment", "$defs", "$id", "$ref", "$schema", "additionalItems", "additionalProperties", "allOf", "contains",
    "description", "enum", "format", "items", "minItems", "oneOf", "pattern", "properties", "required", "title", "type",
}


@lru_cache(maxsize=None)
def load_schema(name: str = ACHIEVEMENT_CREDENTIAL) -> dict[str, Any]:
    return json.loads(resources.files("node.issuance").joinpath("schemas", name).read_text())


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft201909Validator:
    return Draft201909Validator(load_schema(name), format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_errors(document: Any, name: str = ACHIEVEMENT_CREDENTIAL) -> list[dict[str, str]]:
    """Each violation as {"path": "/a/b", "error": message}; empty when the document is valid."""
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [{"path": "/" + "/".join(map(str, e.absolute_path)), "error": e.message} for e in errors]


@lru_cache(maxsize=None)
def _compiled(name: str) -> Callable[[Any], Any]:
    import fastjsonschema

    schema = dict(load_schema(name))
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(schema)


def is_valid_fast(document: Any, name: str = ACHIEVEMENT_CREDENTIAL) -> bool:
    import fastjsonschema

    try:
        _compiled(name)(document)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def first_error(document: Any, name: str = ACHIEVEMENT_CREDENTIAL) -> dict[str, str] | None:
    """None when valid; the fast validator answers the common case, jsonschema explains a failure."""
    if is_valid_fast(document, name):
        return None
    errors = schema_errors(document, name)
    return errors[0] if errors else {"path": "/", "error": "rejected by the compiled schema"}


def ob3_schema_errors(document: Any) -> list[dict[str, str]]:
    """`schema_errors`, except that a `credentialStatus` ARRAY (revocation + suspension entries, which the
    VC data model allows and the OB 3.0 schema does not) is checked one entry at a time in its place:
    every entry must be a valid CredentialStatus and the rest of the credential valid as published."""
    status = document.get("credentialStatus") if isinstance(document, dict) else None
    if not isinstance(status, list) or not status:
        return schema_errors(document)
    errors: list[dict[str, str]] = []
    for position, entry in enumerate(status):
        for error in schema_errors({**document, "credentialStatus": entry}):
            if error["path"].startswith("/credentialStatus"):
                error = {**error, "path": error["path"].replace("/credentialStatus", f"/credentialStatus/{position}", 1)}
            elif position:
                continue  # the rest of the document was reported with the first entry
            errors.append(error)
    return errors


def ob3_valid_fast(document: Any) -> bool:
    """The compiled validator's verdict, with the credentialStatus-array allowance of `ob3_schema_errors`.
    True is final (exact for these schemas, see above); False is explained by `ob3_schema_errors`."""
    status = document.get("credentialStatus") if isinstance(document, dict) else None
    if not isinstance(status, list) or not status:
        return is_valid_fast(document)
    return all(is_valid_fast({**document, "credentialStatus": entry}) for entry in status)


def ob3_schema_verdict(document: Any) -> list[dict[str, str]]:
    """What verification asks: `ob3_schema_errors`, answered by the compiled validator when the credential
    is valid (the common case, ~20x faster) and by jsonschema, the authority, for anything it refuses."""
    return [] if ob3_valid_fast(document) else ob3_schema_errors(document)


def ob3_first_error(document: Any) -> dict[str, str] | None:
    """`first_error` with the credentialStatus-array allowance of `ob3_schema_errors`."""
    status = document.get("credentialStatus") if isinstance(document, dict) else None
    if not isinstance(status, list) or not status:
        return first_error(document)
    if ob3_valid_fast(document):
        return None
    errors = ob3_schema_errors(document)
    return errors[0] if errors else {"path": "/", "error": "rejected by the compiled schema"}
