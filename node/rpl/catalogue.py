"""The Regional Scheme checkpoint catalogue: versioned data, not code.

The real question list of the ILO/CINTERFOR Regional Scheme is not public, so Puente ships a draft
(`data/checkpoints-2026.1-draft.json`) and treats every catalogue as data identified by id + version.
A new version is loaded with `puente readiness catalogue load FILE`; nothing here knows the questions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from node import jsonio
from node.errors import InvalidInput
from node.rpl.schemas import schema_errors
from node.rpl.validation import invalid


@dataclass(frozen=True)
class Checkpoint:
    id: str
    dimension: str
    mandatory: bool
    question: Mapping[str, str]  # language tag -> text (es, en, pt at least)
    evidence_expected: Mapping[str, str]


@dataclass(frozen=True)
class Catalogue:
    id: str
    version: str
    checkpoints: tuple[Checkpoint, ...]
    document: Mapping[str, Any]  # the catalogue as loaded, for display and storage

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def mandatory_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.checkpoints if c.mandatory)

    def checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.id == checkpoint_id), None)

    def canonical_bytes(self) -> bytes:
        """Stable bytes for storage and digest: the same catalogue always hashes the same."""
        return canonical_json(self.document)

    def digest(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_catalogue(document: Any) -> Catalogue:
    """Validate a catalogue document (shape by JSON Schema, then unique ids) and build the model."""
    errors = schema_errors("checkpoint-catalogue", document)
    if errors:
        raise invalid("the checkpoint catalogue does not match its schema", errors)
    seen: set[str] = set()
    duplicates = []
    for index, item in enumerate(document["checkpoints"]):
        if item["id"] in seen:
            duplicates.append({"path": f"$.checkpoints[{index}].id", "error": f"duplicate checkpoint id {item['id']!r}"})
        seen.add(item["id"])
    if duplicates:
        raise invalid("the checkpoint catalogue repeats checkpoint ids", duplicates)
    checkpoints = tuple(
        Checkpoint(
            id=item["id"],
            dimension=item["dimension"],
            mandatory=item["mandatory"],
            question=dict(item["question"]),
            evidence_expected=dict(item["evidenceExpected"]),
        )
        for item in document["checkpoints"]
    )
    return Catalogue(document["id"], document["version"], checkpoints, document)


def read_catalogue_file(path: str | Path) -> Catalogue:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read catalogue file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"catalogue file {path} is not UTF-8 text") from None
    document = jsonio.loads(text, what=f"catalogue file {path}")
    return parse_catalogue(document)


def bundled_catalogue() -> Catalogue:
    """The draft catalogue shipped with Puente (loaded into a node by the seed)."""
    from node.rpl.data import DEFAULT_CATALOGUE

    return read_catalogue_file(DEFAULT_CATALOGUE)
