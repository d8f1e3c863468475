"""The signed framework publication: a framework version, its qualifications and one published mapping
version, as a VC 2.0-shaped document signed by the jurisdiction's ministry.

It carries what a peer needs to map a foreign credential's level onto its own framework, without
asking this node anything else. Building is pure; signing and verifying go through the node's signer
(one function each, so the suite and options are decided in one place).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from node.clock import isoformat_z
from node.framework.model import Framework, Mapping, publication_problems
from node.verification import Check

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
PUENTE_CONTEXT = "https://w3id.org/puente/v1"  # defines every term, so nothing is left unsigned (architecture rule 9)
DEFAULT_SUITE = "eddsa-jcs-2022"  # a federation document: cheap to sign and verify, no RDF needed
TYPE = "FrameworkPublication"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "framework-publication.schema.json"


def publication_id(base_url: str, framework_id: str, target_id: str, version: int) -> str:
    """Stable and resolvable: the URL where this node serves the publication."""
    return f"{base_url.rstrip('/')}/framework/{framework_id}/publications/{target_id}/{version}"


def build_publication(*, framework: Framework, target: Framework, mapping: Mapping, version: int, issuer: str,
                      base_url: str, issued_at: datetime) -> dict[str, Any]:
    subject_framework = framework.to_json()
    return {
        "@context": [CREDENTIALS_V2, PUENTE_CONTEXT],
        "id": publication_id(base_url, framework.id, target.id, version),
        "type": ["VerifiableCredential", TYPE],
        "issuer": issuer,
        "validFrom": isoformat_z(issued_at),
        "name": f"{framework.id} {framework.version} → {target.id} {target.version}, mapping version {version}",
        "credentialSubject": {
            "id": f"{base_url.rstrip('/')}/framework/{framework.id}",
            "type": "FrameworkMapping",
            "framework": subject_framework,
            "qualifications": [q.to_json() for q in framework.qualifications],
            "mapping": {
                "version": version,
                "target": {"id": target.id, "version": target.version, "kind": target.kind,
                           "levels": [lv.level for lv in target.levels]},
                "rows": mapping.rows_json(),
            },
        },
    }


async def sign_publication(signer: Any, document: dict[str, Any], key: Any, created: datetime,
                           suite: str = DEFAULT_SUITE) -> dict[str, Any]:
    return await signer.sign(document, key, suite=suite, created=created, array=True)


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    return json.loads(_schema_text())  # a fresh dict each time: callers may not share a mutable schema


def content_checks(document: dict[str, Any]) -> list[Check]:
    """Beyond the proof: the document is a framework publication whose mapping is complete and approved."""
    import jsonschema

    from node.framework.model import Problems, parse_framework, parse_mapping_row

    checks: list[Check] = []
    errors = sorted(jsonschema.Draft202012Validator(load_schema()).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(document)"
        checks.append(Check("framework_schema", False, "schema_invalid", f"{where}: {first.message}"))
        return checks
    checks.append(Check("framework_schema", True))
    subject = document["credentialSubject"]
    problems = Problems()
    framework = parse_framework(subject["framework"], problems, qualifications=subject.get("qualifications", []))
    rows = [parse_mapping_row(r, f"mapping.rows[{i}]", problems) for i, r in enumerate(subject["mapping"]["rows"])]
    if framework is None or problems:
        checks.append(Check("framework_content", False, "content_invalid", problems.items[0]["path"] + ": " + problems.items[0]["error"]))
        return checks
    mapping = Mapping(framework.id, framework.version, subject["mapping"]["target"]["id"],
                      subject["mapping"]["target"]["version"], tuple(r for r in rows if r is not None))
    reasons = publication_problems(mapping, framework)
    checks.append(Check("framework_content", not reasons, "incomplete_mapping" if reasons else None, "; ".join(reasons) or None))
    return checks
