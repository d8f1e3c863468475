"""JSON Schema validation of what the issuer publishes (bundled schemas; never fetched)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator

ACHIEVEMENT_CREDENTIAL = "ob_v3p0_achievementcredential.json"


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft201909Validator:
    schema = json.loads(resources.files("node.issuance").joinpath("schemas", name).read_text())
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_errors(document: Any, name: str = ACHIEVEMENT_CREDENTIAL) -> list[dict[str, str]]:
    """Each violation as {"path": "/a/b", "error": message}; empty when the document is valid."""
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [{"path": "/" + "/".join(map(str, e.absolute_path)), "error": e.message} for e in errors]
