"""Reading a ministry's import file (JSON or CSV) into a framework, its qualifications and mapping rows.

Pure. Both formats become the same JSON document first (see docs/formats/framework-import.md); a
CSV remembers which line produced each part of that document, so every problem found in the JSON is
reported by CSV line. Nothing here writes: the service validates the whole file before any write.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable

from node import jsonio
from node.errors import InvalidInput, ValidationFailed
from node.framework.model import (
    DESCRIPTOR_DOMAINS,
    LANGUAGES,
    Framework,
    MappingRow,
    Problems,
    check_row_against,
    duplicate_sources,
    parse_framework,
    parse_mapping_row,
)

TOP_LEVEL_KEYS = {"framework", "qualifications", "mappings"}
MULTILINGUAL_COLUMNS = ("title", "description", *DESCRIPTOR_DOMAINS)
CSV_COLUMNS = (
    "record", "id", "version", "kind", "jurisdiction", "level", "code", "isco", "sector", "units", "esco",
    "workload_hours", "target", "target_version", "target_level", "relation", "rationale", "evidence", "author",
    "approved_by",
)
RECORDS = ("framework", "level", "qualification", "mapping")


@dataclass(frozen=True)
class MappingSpec:
    target_id: str
    target_version: str | None  # None: the newest loaded version of the target
    rows: tuple[MappingRow, ...]
    path: str


@dataclass
class ImportBundle:
    framework: Framework
    mappings: list[MappingSpec] = field(default_factory=list)
    rejected_codes: frozenset[str] = frozenset()  # qualifications in the file that failed validation


# -- JSON ------------------------------------------------------------------------------------------


def parse_json_text(text: str) -> Any:
    return jsonio.loads(text, what="the import file")


def parse_document(doc: Any, problems: Problems) -> ImportBundle | None:
    """The framework (with qualifications) and mapping rows of an import document; None when the framework
    itself cannot be read. Any recorded problem makes the whole document invalid."""
    if not isinstance(doc, dict):
        problems.add("$", 'an import document is an object: {"framework": {...}, "qualifications": [...], "mappings": [...]}')
        return None
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            problems.add(key, f"unknown key; an import document has {', '.join(sorted(TOP_LEVEL_KEYS))}")
    framework = parse_framework(doc.get("framework"), problems, qualifications=doc.get("qualifications", []))
    mappings = _parse_mappings(doc.get("mappings"), problems)
    if framework is None:
        return None
    listed = doc.get("qualifications") if isinstance(doc.get("qualifications"), list) else []
    rejected = frozenset(q.get("code") for q in listed if isinstance(q, dict) and isinstance(q.get("code"), str)
                         and framework.qualification(q["code"]) is None)
    return ImportBundle(framework, mappings, rejected)  # possibly with problems: the caller checks the rows too, then fails


def _parse_mappings(values: Any, problems: Problems) -> list[MappingSpec]:
    if values is None:
        return []
    if not isinstance(values, list):
        problems.add("mappings", "must be a list of mappings")
        return []
    specs: list[MappingSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(values):
        here = f"mappings[{i}]"
        if not isinstance(item, dict):
            problems.add(here, 'a mapping is {"target": {"id": "rqf", "version": ...}, "rows": [...]}')
            continue
        target = item.get("target")
        target_id = target.get("id") if isinstance(target, dict) else target
        target_version = target.get("version") if isinstance(target, dict) else None
        if not isinstance(target_id, str) or not target_id:
            problems.add(f"{here}.target", "required: the target framework, e.g. {\"id\": \"rqf\", \"version\": \"2026.1-draft\"}")
            continue
        if target_version is not None and not isinstance(target_version, str):
            problems.add(f"{here}.target.version", "must be a version label")
            continue
        if target_id in seen:
            problems.add(f"{here}.target", f"a second mapping to {target_id}; put all its rows in one mapping")
            continue
        seen.add(target_id)
        raw_rows = item.get("rows")
        if not isinstance(raw_rows, list):
            problems.add(f"{here}.rows", "required: a list of mapping rows")
            continue
        rows = [parse_mapping_row(row, f"{here}.rows[{k}]", problems) for k, row in enumerate(raw_rows)]
        parsed = tuple(r for r in rows if r is not None)
        duplicate_sources(parsed if len(parsed) == len(rows) else (), f"{here}.rows", problems)
        specs.append(MappingSpec(target_id, target_version, parsed, here))
    return specs


def check_targets(bundle: ImportBundle, find: Callable[[str, str | None], Framework | None], problems: Problems) -> dict[str, Framework]:
    """Every mapping's target framework is loaded and every row fits both frameworks; returns targets by id."""
    targets: dict[str, Framework] = {}
    for spec in bundle.mappings:
        if spec.target_id == bundle.framework.id:
            problems.add(f"{spec.path}.target", "a framework cannot be mapped onto itself")
            continue
        target = find(spec.target_id, spec.target_version)
        if target is None:
            wanted = spec.target_id + (f"@{spec.target_version}" if spec.target_version else "")
            problems.add(f"{spec.path}.target", f"unknown target framework {wanted}; import it first")
            continue
        targets[spec.target_id] = target
        for k, row in enumerate(spec.rows):
            if row.source_type == "qualification" and row.source in bundle.rejected_codes:
                continue  # its own problem is reported already; "unknown qualification" would only confuse
            check_row_against(row, bundle.framework, target, f"{spec.path}.rows[{k}]", problems)
    return targets


# -- CSV -------------------------------------------------------------------------------------------


@dataclass
class CsvDocument:
    """A CSV read into the JSON import document, with the line each JSON path came from."""

    document: dict[str, Any]
    lines: dict[str, int]

    def locate(self, problems: list[dict[str, str]]) -> list[dict[str, Any]]:
        """Problems by CSV line and column instead of JSON path."""
        out = []
        for problem in problems:
            path = problem["path"]
            prefix = max((p for p in self.lines if path == p or path.startswith(p + ".") or path.startswith(p + "[")),
                         key=len, default=None)
            item: dict[str, Any] = {"line": self.lines[prefix] if prefix else 1}
            column = _column_of(path[len(prefix):] if prefix else path)
            if column:
                item["column"] = column
            item["error"] = problem["error"]
            out.append(item)
        return out


def _column_of(rest: str) -> str | None:
    """`.title.es` → title_es, `.from.level` → level, `.workloadHours` → workload_hours."""
    parts = [p for p in rest.replace("[", ".[").split(".") if p and not p.startswith("[")]
    if not parts:
        return None
    renames = {"workloadHours": "workload_hours", "approvedBy": "approved_by", "competencyUnits": "units",
               "from": None, "to": "target_level", "qualification": "code", "descriptors": None}
    names = [renames.get(p, p) for p in parts]
    names = [n for n in names if n]
    if not names:
        return None
    if len(names) >= 2 and names[-1] in LANGUAGES:
        return f"{names[-2]}_{names[-1]}"
    return names[-1]


def parse_csv_text(text: str) -> CsvDocument:
    """Read an import CSV; structural problems (unknown columns or records, bad numbers) are reported
    by line at once, everything else after conversion, by the same rules as JSON."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed("the CSV file is empty", errors=[{"line": 1, "error": "expected a header row"}]) from None
    except csv.Error as exc:
        raise ValidationFailed(f"the CSV file cannot be read: {exc}", errors=[{"line": 1, "error": str(exc)}]) from None
    header = [h.strip() for h in header]
    problems: list[dict[str, Any]] = []
    for name in header:
        if name not in CSV_COLUMNS and not _multilingual_column(name):
            problems.append({"line": 1, "column": name, "error": "unknown column"})
    if "record" not in header:
        problems.append({"line": 1, "column": "record", "error": f"required column: one of {', '.join(RECORDS)} per row"})
    if problems:
        raise ValidationFailed("the CSV header is not valid", errors=problems)

    doc: dict[str, Any] = {"framework": None, "qualifications": [], "mappings": []}
    lines: dict[str, int] = {}
    levels: list[dict[str, Any]] = []
    mappings: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                problems.append({"line": line, "error": f"{len(row)} cells but the header has {len(header)} columns"})
                continue
            cells = {name: value.strip() for name, value in zip(header, row) if value.strip()}
            record = cells.pop("record", "")
            if record == "framework":
                if doc["framework"] is not None:
                    problems.append({"line": line, "column": "record", "error": f"a second framework row (first on line {lines['framework']})"})
                    continue
                doc["framework"] = _framework_record(cells)
                lines["framework"] = line
            elif record == "level":
                lines[f"framework.levels[{len(levels)}]"] = line
                levels.append(_level_record(cells))
            elif record == "qualification":
                item = _qualification_record(cells, line, problems)
                lines[f"qualifications[{len(doc['qualifications'])}]"] = line
                doc["qualifications"].append(item)
            elif record == "mapping":
                target = (cells.get("target", ""), cells.get("target_version", ""))
                mapping = mappings.setdefault(target, {"target": _target(target), "rows": []})
                if len(mappings) > len(doc["mappings"]):
                    lines[f"mappings[{len(doc['mappings'])}]"] = line
                    doc["mappings"].append(mapping)
                index = doc["mappings"].index(mapping)
                lines[f"mappings[{index}].rows[{len(mapping['rows'])}]"] = line
                mapping["rows"].append(_mapping_record(cells))
            else:
                problems.append({"line": line, "column": "record", "error": f"unknown record {record!r}; use {', '.join(RECORDS)}"})
    except csv.Error as exc:
        problems.append({"line": reader.line_num, "error": f"cannot read the CSV: {exc}"})
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the CSV file", errors=problems)
    if doc["framework"] is not None:
        doc["framework"]["levels"] = levels
    elif levels:
        lines.setdefault("framework", 2)
    return CsvDocument(doc, lines)


def _multilingual_column(name: str) -> bool:
    base, _, lang = name.rpartition("_")
    return base in MULTILINGUAL_COLUMNS and lang in LANGUAGES


def _texts(cells: dict[str, str], base: str) -> dict[str, str] | None:
    texts = {lang: cells[f"{base}_{lang}"] for lang in LANGUAGES if f"{base}_{lang}" in cells}
    return texts or None


def _framework_record(cells: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: cells[k] for k in ("id", "version", "kind", "jurisdiction") if k in cells}
    for base in ("title", "description"):
        if (texts := _texts(cells, base)) is not None:
            out[base] = texts
    return out


def _level_record(cells: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"level": cells.get("level")}
    if (title := _texts(cells, "title")) is not None:
        out["title"] = title
    descriptors = {d: t for d in DESCRIPTOR_DOMAINS if (t := _texts(cells, d)) is not None}
    if descriptors:
        out["descriptors"] = descriptors
    return out


def _qualification_record(cells: dict[str, str], line: int, problems: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": cells.get("code"), "title": _texts(cells, "title"), "level": cells.get("level")}
    for key in ("isco", "sector"):
        if key in cells:
            out[key] = cells[key]
    if "units" in cells:
        units = []
        for part in cells["units"].split(";"):
            code, sep, title = part.partition("=")
            if not sep or not code.strip() or not title.strip():
                problems.append({"line": line, "column": "units", "error": "competency units are CODE=title separated by ';'"})
                break
            units.append({"code": code.strip(), "title": {"es": title.strip()}})
        out["competencyUnits"] = units
    if "esco" in cells:
        out["esco"] = cells["esco"].split()
    if "workload_hours" in cells:
        try:
            out["workloadHours"] = int(cells["workload_hours"])
        except ValueError:
            problems.append({"line": line, "column": "workload_hours", "error": "must be a whole number of hours"})
    return out


def _target(target: tuple[str, str]) -> dict[str, str]:
    return {"id": target[0], **({"version": target[1]} if target[1] else {})}


def _mapping_record(cells: dict[str, str]) -> dict[str, Any]:
    source: dict[str, str] = {}
    if "code" in cells:
        source["qualification"] = cells["code"]
    if "level" in cells:
        source["level"] = cells["level"]
    out: dict[str, Any] = {"from": source, "relation": cells.get("relation"), "author": cells.get("author"),
                           "rationale": cells.get("rationale")}
    for column, key in (("target_level", "to"), ("evidence", "evidence"), ("approved_by", "approvedBy")):
        if column in cells:
            out[key] = cells[column]
    return out


# -- one entry point -------------------------------------------------------------------------------


def read_import(text: str, fmt: str, find: Callable[[str, str | None], Framework | None]) -> tuple[ImportBundle, dict[str, Framework]]:
    """Parse and validate a whole import file; ValidationFailed lists every problem (by JSON path or CSV line)."""
    if fmt not in ("json", "csv"):
        raise InvalidInput(f"unknown import format {fmt!r}; use json or csv")
    located = parse_csv_text(text) if fmt == "csv" else None
    doc = located.document if located else parse_json_text(text)
    problems = Problems()
    bundle = parse_document(doc, problems)
    targets = check_targets(bundle, find, problems) if bundle is not None else {}
    if problems:
        errors = located.locate(problems.items) if located else problems.items
        first = errors[0]
        where = f"line {first['line']}" if "line" in first else first["path"]
        raise ValidationFailed(f"{len(errors)} problem(s) in the import file, nothing imported; first at {where}: {first['error']}",
                               errors=errors)
    return bundle, targets
