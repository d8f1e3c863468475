"""Writing a framework, its qualifications and mappings back out in the import formats (JSON, CSV).

Pure. What `export` writes, `import` reads back unchanged (tests hold us to that round trip).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable

from node.errors import InvalidInput
from node.framework.importer import CSV_COLUMNS
from node.framework.model import DESCRIPTOR_DOMAINS, LANGUAGES, Framework, Mapping


def export_document(framework: Framework, mappings: Iterable[Mapping]) -> dict[str, Any]:
    framework_json = framework.to_json()
    return {
        "framework": framework_json,
        "qualifications": [q.to_json() for q in framework.qualifications],
        "mappings": [{"target": {"id": m.target_id, "version": m.target_version}, "rows": m.rows_json()} for m in mappings],
    }


def export_json(framework: Framework, mappings: Iterable[Mapping]) -> str:
    return json.dumps(export_document(framework, mappings), indent=2, ensure_ascii=False) + "\n"


def _ml_columns(base: str) -> list[str]:
    return [f"{base}_{lang}" for lang in LANGUAGES]


def export_csv(framework: Framework, mappings: Iterable[Mapping]) -> str:
    header = list(CSV_COLUMNS) + [c for base in ("title", "description", *DESCRIPTOR_DOMAINS) for c in _ml_columns(base)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()

    def texts(prefix: str, values: dict[str, str]) -> dict[str, str]:
        return {f"{prefix}_{lang}": text for lang, text in values.items()}

    writer.writerow({"record": "framework", "id": framework.id, "version": framework.version, "kind": framework.kind,
                     "jurisdiction": framework.jurisdiction or "", **texts("title", framework.title),
                     **texts("description", framework.description)})
    for level in framework.levels:
        row = {"record": "level", "level": level.level, **texts("title", level.title)}
        for domain, values in level.descriptors.items():
            row.update(texts(domain, values))
        writer.writerow(row)
    for q in framework.qualifications:
        for unit in q.units:
            if set(unit["title"]) - {"es"}:
                raise InvalidInput(f"{q.code}: competency unit titles in other languages than es do not fit the CSV format; export JSON")
        writer.writerow({"record": "qualification", "code": q.code, "level": q.level or "", "isco": q.isco or "",
                         "sector": q.sector or "", **texts("title", q.title),
                         "units": ";".join(f"{u['code']}={u['title'].get('es', '')}" for u in q.units),
                         "esco": " ".join(q.esco), "workload_hours": q.workload_hours or ""})
    for mapping in mappings:
        for r in mapping.rows:
            writer.writerow({"record": "mapping", "target": mapping.target_id, "target_version": mapping.target_version,
                             "level" if r.source_type == "level" else "code": r.source, "target_level": r.target_level or "",
                             "relation": r.relation, "rationale": r.rationale, "evidence": r.evidence or "",
                             "author": r.author, "approved_by": r.approved_by or ""})
    return out.getvalue()
