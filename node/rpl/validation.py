"""Validation errors whose one-line message already says what is wrong (the CLI prints only that line)."""

from __future__ import annotations

from typing import Any

from node.errors import ValidationFailed

SHOWN = 3


def invalid(summary: str, errors: list[dict[str, Any]]) -> ValidationFailed:
    """ValidationFailed with every error in `errors` and the first few spelled out in the detail."""
    shown = "; ".join(f"{e.get('path') or e.get('line')}: {e['error']}" for e in errors[:SHOWN])
    more = f" (and {len(errors) - SHOWN} more)" if len(errors) > SHOWN else ""
    return ValidationFailed(f"{summary}: {shown}{more}" if shown else summary, errors=errors)
