"""JSON Schema validation of what the issuer publishes (bundled schemas; never fetched).

`ob_v3p0_achievementcredential.json` is 1EdTech's OB 3.0 AchievementCredential schema, unmodified (a
test compares it byte for byte with the conformance copy): Puente credentials fit it as published, with
a single `credentialStatus` object.

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
