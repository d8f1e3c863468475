"""JSON Schemas of what the RPL capability reads and publishes, and one helper to apply them."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(name: str, document: Any) -> list[dict[str, str]]:
    """Every violation as {"path": JSONPath, "error": message}, in document order, for ValidationFailed."""
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [{"path": e.json_path, "error": e.message} for e in errors]
