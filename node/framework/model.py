"""Frameworks, levels, qualifications and mapping rows, and the rules they obey.

Pure: no aiohttp, SQLAlchemy or pyld. Everything is parsed from plain JSON values (what the import
file, the HTTP body and the database hold) and every rule violation is collected as
`{"path": "qualifications[2].isco", "error": ...}` so a ministry sees all its mistakes at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

LANGUAGES = ("es", "en", "pt")
DESCRIPTOR_DOMAINS = ("knowledge", "skills", "autonomy")  # autonomy and responsibility, as in the EQF
KINDS = ("regional", "national", "reference")  # RQF; a country's framework; another region's (e.g. EQF)

# SKOS mapping relations, strongest first. broad and narrow say the same about strength (the two sides
# differ in breadth, not in how closely they correspond), so they share a rank; `none` says explicitly
# that a level has no counterpart and is never followed when resolving.
RELATION_STRENGTH = {"exact": 5, "close": 4, "broad": 3, "narrow": 3, "partial": 2, "none": 1}
RELATIONS = tuple(RELATION_STRENGTH)
INVERSE_RELATION = {"broad": "narrow", "narrow": "broad"}

ISCO_MAJOR_GROUPS = frozenset("0123456789")  # ISCO-08 major groups 0 (armed forces) .. 9
_ISCO = re.compile(r"^[0-9]{4}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_LEVEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,19}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")
RESERVED_IDS = frozenset({"resolve", "import", "verify"})  # words of the HTTP paths under /framework/


class Problems:
    """Collects rule violations with the JSON path where each one was found."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, path: str, error: str) -> None:
        self.items.append({"path": path, "error": error})

    def __bool__(self) -> bool:
        return bool(self.items)


def weakest(relations: Iterable[str]) -> str:
    """The weakest link of a chain (ties keep the first)."""
    return min(relations, key=lambda r: RELATION_STRENGTH[r])


def inverse(relation: str) -> str:
    """The relation read the other way round: A broadMatch B is B narrowMatch A."""
    return INVERSE_RELATION.get(relation, relation)


# -- values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    level: str
    title: dict[str, str] = field(default_factory=dict)
    descriptors: dict[str, dict[str, str]] = field(default_factory=dict)  # domain -> language -> text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"level": self.level, "title": dict(self.title)}
        if self.descriptors:
            out["descriptors"] = {d: dict(t) for d, t in self.descriptors.items()}
        return out


@dataclass(frozen=True)
class Qualification:
    code: str
    title: dict[str, str]
    level: str | None
    isco: str | None = None
    sector: str | None = None
    units: tuple[dict[str, Any], ...] = ()  # competency units: {"code", "title": {lang: text}}
    esco: tuple[str, ...] = ()
    workload_hours: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "title": dict(self.title), "level": self.level}
        for name, value in (("isco", self.isco), ("sector", self.sector), ("workloadHours", self.workload_hours)):
            if value is not None:
                out[name] = value
        if self.units:
            out["competencyUnits"] = [dict(u) for u in self.units]
        if self.esco:
            out["esco"] = list(self.esco)
        return out


@dataclass(frozen=True)
class Framework:
    id: str
    version: str
    kind: str
    title: dict[str, str]
    jurisdiction: str | None = None  # ISO 3166-1 alpha-2 for national frameworks
    levels: tuple[Level, ...] = ()
    qualifications: tuple[Qualification, ...] = ()
    description: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def level(self, level: str) -> Level | None:
        return next((lv for lv in self.levels if lv.level == level), None)

    def qualification(self, code: str) -> Qualification | None:
        return next((q for q in self.qualifications if q.code == code), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "version": self.version, "kind": self.kind, "title": dict(self.title)}
        if self.jurisdiction:
            out["jurisdiction"] = self.jurisdiction
        if self.description:
            out["description"] = dict(self.description)
        out["levels"] = [lv.to_json() for lv in self.levels]
        return out


@dataclass(frozen=True)
class MappingRow:
    """One correspondence: a national level or a qualification of the source framework → a target level."""

    source_type: str  # "level" | "qualification"
    source: str
    target_level: str | None  # None only with relation "none"
    relation: str
    rationale: str = ""
    evidence: str | None = None
    author: str = ""
    approved_by: str | None = None

    @property
    def source_key(self) -> tuple[str, str]:
        return (self.source_type, self.source)

    @property
    def approved(self) -> bool:
        return bool(self.approved_by)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": {self.source_type: self.source}, "to": self.target_level, "relation": self.relation,
                               "rationale": self.rationale, "author": self.author}
        if self.evidence:
            out["evidence"] = self.evidence
        if self.approved_by:
            out["approvedBy"] = self.approved_by
        return out


@dataclass(frozen=True)
class Mapping:
    """A version of the mapping of one framework version onto a target framework (the RQF, or e.g. the EQF)."""

    framework_id: str
    framework_version: str
    target_id: str
    target_version: str
    rows: tuple[MappingRow, ...] = ()

    def row(self, source_type: str, source: str) -> MappingRow | None:
        return next((r for r in self.rows if r.source_key == (source_type, source)), None)

    def with_row(self, row: MappingRow) -> "Mapping":
        """A copy with `row` added, replacing the row of the same source."""
        rows = [r for r in self.rows if r.source_key != row.source_key] + [row]
        return Mapping(self.framework_id, self.framework_version, self.target_id, self.target_version, tuple(rows))

    def rows_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rows]


# -- parsing and validation ------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_multilingual(value: Any, path: str, problems: Problems, *, required: bool = True) -> dict[str, str]:
    """{"es": ..., "en": ..., "pt": ...}; at least one language when required, only known languages."""
    if value is None:
        if required:
            problems.add(path, f"required: an object with texts in {', '.join(LANGUAGES)}")
        return {}
    if isinstance(value, str):
        value = {"es": value}  # a bare string is read as Spanish, the network's common language
    if not isinstance(value, dict):
        problems.add(path, "must be an object of language → text")
        return {}
    out: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            problems.add(f"{path}.{lang}", f"unknown language; use {', '.join(LANGUAGES)}")
        elif _text(text) is None:
            problems.add(f"{path}.{lang}", "must be a non-empty string")
        else:
            out[lang] = text.strip()
    if required and not out and not any(p["path"].startswith(path) for p in problems.items):
        problems.add(path, "needs a text in at least one language")
    return out


def validate_isco(value: Any) -> str | None:
    """The problem with an ISCO-08 unit group code, or None: four digits, first one a major group."""
    if not isinstance(value, str) or not _ISCO.match(value):
        return "an ISCO-08 code is four digits (unit group), e.g. 7112"
    if value[0] not in ISCO_MAJOR_GROUPS:
        return f"{value[0]} is not an ISCO-08 major group"
    if value == "0000":
        return "0000 is not an ISCO-08 unit group"
    return None


def _level_label(value: Any) -> str | None:
    """Levels are labels ("1", "3", "6A"); numbers in a file are accepted and read as labels."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) and _LEVEL.match(value.strip()) else None


def parse_levels(values: Any, path: str, problems: Problems) -> tuple[Level, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        problems.add(path, "must be a list of levels")
        return ()
    levels: list[Level] = []
    seen: set[str] = set()
    for i, item in enumerate(values):
        here = f"{path}[{i}]"
        if not isinstance(item, dict):
            problems.add(here, "a level must be an object")
            continue
        label = _level_label(item.get("level"))
        if label is None:
            problems.add(f"{here}.level", "required: a level label such as 1 or 4")
            continue
        if label in seen:
            problems.add(f"{here}.level", f"duplicate level {label}")
            continue
        seen.add(label)
        title = parse_multilingual(item.get("title"), f"{here}.title", problems, required=False) or {"en": f"Level {label}"}
        descriptors: dict[str, dict[str, str]] = {}
        raw = item.get("descriptors") or {}
        if not isinstance(raw, dict):
            problems.add(f"{here}.descriptors", f"must be an object with {', '.join(DESCRIPTOR_DOMAINS)}")
            raw = {}
        for domain, texts in raw.items():
            if domain not in DESCRIPTOR_DOMAINS:
                problems.add(f"{here}.descriptors.{domain}", f"unknown descriptor domain; use {', '.join(DESCRIPTOR_DOMAINS)}")
                continue
            descriptors[domain] = parse_multilingual(texts, f"{here}.descriptors.{domain}", problems)
        levels.append(Level(label, title, descriptors))
    return tuple(levels)


def parse_qualifications(values: Any, path: str, levels: tuple[Level, ...], problems: Problems) -> tuple[Qualification, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        problems.add(path, "must be a list of qualifications")
        return ()
    known_levels = {lv.level for lv in levels}
    out: list[Qualification] = []
    seen: set[str] = set()
    for i, item in enumerate(values):
        here = f"{path}[{i}]"
        if not isinstance(item, dict):
            problems.add(here, "a qualification must be an object")
            continue
        before = len(problems.items)
        code = _text(item.get("code"))
        if code is None or not _CODE.match(code):
            problems.add(f"{here}.code", "required: letters, digits, '.', '_' or '-' (at most 100)")
        elif code in seen:
            problems.add(f"{here}.code", f"duplicate qualification code {code}")
        else:
            seen.add(code)
        title = parse_multilingual(item.get("title"), f"{here}.title", problems)
        level = None
        if item.get("level") is not None:
            level = _level_label(item.get("level"))
            if level is None:
                problems.add(f"{here}.level", "must be a level label such as 3")
            elif level not in known_levels:
                known = ", ".join(sorted(known_levels, key=_sort_key)) or "none: this framework has no levels"
                problems.add(f"{here}.level", f"unknown level {level} (levels: {known})")
        elif known_levels:
            problems.add(f"{here}.level", "required: the qualification's level in this framework")
        isco = item.get("isco")
        if isco is not None:
            isco = str(isco) if isinstance(isco, int) and not isinstance(isco, bool) else isco
            if (problem := validate_isco(isco)) is not None:
                problems.add(f"{here}.isco", problem)
        sector = item.get("sector")
        if sector is not None and _text(sector) is None:
            problems.add(f"{here}.sector", "must be a non-empty string")
        units = _parse_units(item.get("competencyUnits"), f"{here}.competencyUnits", problems)
        esco = _parse_esco(item.get("esco"), f"{here}.esco", problems)
        workload = item.get("workloadHours")
        if workload is not None and (isinstance(workload, bool) or not isinstance(workload, int) or workload <= 0):
            problems.add(f"{here}.workloadHours", "notional workload in hours must be a positive whole number")
        if len(problems.items) == before:
            out.append(Qualification(code, title, level, isco, _text(sector), units, esco, workload))
    return tuple(out)


def _parse_units(value: Any, path: str, problems: Problems) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, "must be a list of competency units")
        return ()
    units: list[dict[str, Any]] = []
    for i, unit in enumerate(value):
        if not isinstance(unit, dict) or _text(unit.get("code")) is None:
            problems.add(f"{path}[{i}]", 'a competency unit is {"code": ..., "title": {...}}')
            continue
        title = parse_multilingual(unit.get("title"), f"{path}[{i}].title", problems)
        units.append({"code": unit["code"].strip(), "title": title})
    return tuple(units)


def _parse_esco(value: Any, path: str, problems: Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, "must be a list of ESCO URIs")
        return ()
    out = []
    for i, uri in enumerate(value):
        if not isinstance(uri, str) or not uri.startswith("http://data.europa.eu/esco/"):
            problems.add(f"{path}[{i}]", "an ESCO URI starts with http://data.europa.eu/esco/")
        else:
            out.append(uri)
    return tuple(out)


def parse_framework(data: Any, problems: Problems, path: str = "framework",
                    qualifications: Any = None, qualifications_path: str = "qualifications") -> Framework | None:
    """A framework with its levels and its valid qualifications; None when its identity or levels are invalid.
    Callers must treat any recorded problem as a failure."""
    if not isinstance(data, dict):
        problems.add(path, "required: an object with id, version, kind, title and levels")
        return None
    before = len(problems.items)
    fid = _text(data.get("id"))
    if fid is None or not _ID.match(fid):
        problems.add(f"{path}.id", "required: lower-case letters, digits and '-', e.g. gt-mnc")
    elif fid in RESERVED_IDS:
        problems.add(f"{path}.id", f"{fid} is reserved; choose another framework id")
    version = data.get("version")
    if not isinstance(version, str) or not _VERSION.match(version):
        problems.add(f"{path}.version", "required: a version label such as 2026.1")
    kind = data.get("kind", "national")
    if kind not in KINDS:
        problems.add(f"{path}.kind", f"must be one of {', '.join(KINDS)}")
    jurisdiction = data.get("jurisdiction")
    if jurisdiction is not None and (not isinstance(jurisdiction, str) or not re.match(r"^[A-Za-z]{2}$", jurisdiction)):
        problems.add(f"{path}.jurisdiction", "an ISO 3166-1 alpha-2 code such as GT")
    elif kind == "national" and jurisdiction is None:
        problems.add(f"{path}.jurisdiction", "required for a national framework: the ministry that publishes it")
    title = parse_multilingual(data.get("title"), f"{path}.title", problems)
    description = parse_multilingual(data.get("description"), f"{path}.description", problems, required=False)
    levels = parse_levels(data.get("levels"), f"{path}.levels", problems)
    if kind != "national" and not levels:
        problems.add(f"{path}.levels", f"a {kind} framework needs its levels")
    core_valid = len(problems.items) == before
    quals = parse_qualifications(qualifications if qualifications is not None else data.get("qualifications"),
                                 qualifications_path if qualifications is not None else f"{path}.qualifications",
                                 levels, problems)
    if not core_valid:
        return None
    # With bad qualifications the framework is still returned (without them, and with the problems
    # recorded) so that mapping rows can be checked too and the ministry sees every mistake at once.
    return Framework(fid, version, kind, title, jurisdiction.upper() if jurisdiction else None, levels, quals, description)


def parse_mapping_row(item: Any, path: str, problems: Problems) -> MappingRow | None:
    if not isinstance(item, dict):
        problems.add(path, "a mapping row must be an object")
        return None
    before = len(problems.items)
    source = item.get("from")
    source_type = source_value = None
    if isinstance(source, dict) and len(source) == 1 and next(iter(source)) in ("level", "qualification"):
        source_type, raw = next(iter(source.items()))
        source_value = _level_label(raw) if source_type == "level" else _text(raw)
    if source_value is None:
        problems.add(f"{path}.from", 'required: {"level": "3"} or {"qualification": "CODE"}')
    relation = item.get("relation")
    if relation not in RELATION_STRENGTH:
        problems.add(f"{path}.relation", f"must be one of {', '.join(RELATIONS)}")
    target = item.get("to")
    target_level = _level_label(target) if target is not None else None
    if relation != "none" and target_level is None:
        problems.add(f"{path}.to", "required: the target level (only relation none has no target)")
    if relation == "none" and target is not None:
        problems.add(f"{path}.to", "relation none maps to no level; leave 'to' out")
    author = _text(item.get("author"))
    if author is None:
        problems.add(f"{path}.author", "required: who proposes this correspondence")
    rationale = _text(item.get("rationale"))
    if rationale is None:
        problems.add(f"{path}.rationale", "required: why the levels correspond")
    evidence = item.get("evidence")
    if evidence is not None and (not isinstance(evidence, str) or not re.match(r"^https?://", evidence)):
        problems.add(f"{path}.evidence", "must be an http(s) link to the evidence")
    approved_by = _text(item.get("approvedBy"))
    if approved_by is not None and author is not None and approved_by.casefold() == author.casefold():
        problems.add(f"{path}.approvedBy", "the approver must be a second person, not the author")
    if len(problems.items) != before:
        return None
    return MappingRow(source_type, source_value, target_level, relation, rationale, evidence, author, approved_by)


def check_row_against(row: MappingRow, source: Framework, target: Framework, path: str, problems: Problems) -> None:
    """The row's source exists in the source framework and its target level in the target framework."""
    if row.source_type == "level" and source.level(row.source) is None:
        problems.add(f"{path}.from.level", f"unknown level {row.source} in {source.key}")
    if row.source_type == "qualification" and source.qualification(row.source) is None:
        problems.add(f"{path}.from.qualification", f"unknown qualification {row.source} in {source.key}")
    if row.target_level is not None and target.level(row.target_level) is None:
        problems.add(f"{path}.to", f"unknown level {row.target_level} in {target.key}")


def duplicate_sources(rows: Iterable[MappingRow], path: str, problems: Problems) -> None:
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        if row.source_key in seen:
            problems.add(f"{path}[{i}].from", f"{row.source_type} {row.source} is mapped twice")
        seen.add(row.source_key)


def publication_problems(mapping: Mapping, source: Framework) -> list[str]:
    """Why a mapping cannot be published yet: every national level covered (or `none`), every row approved."""
    problems = []
    mapped = {r.source for r in mapping.rows if r.source_type == "level"}
    missing = [lv.level for lv in source.levels if lv.level not in mapped]
    if missing:
        problems.append(f"levels not mapped (map them, or say relation none): {', '.join(missing)}")
    if not mapping.rows:
        problems.append("the mapping has no rows")
    unapproved = [f"{r.source_type} {r.source}" for r in mapping.rows if not r.approved]
    if unapproved:
        problems.append(f"rows awaiting approval by a second person: {', '.join(unapproved)}")
    return problems


def _sort_key(label: str) -> tuple[int, str]:
    return (int(label), "") if label.isdigit() else (10**6, label)


def sort_levels(labels: Iterable[str]) -> list[str]:
    return sorted(labels, key=_sort_key)
