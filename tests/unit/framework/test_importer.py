"""Import files (JSON and CSV): every bundled file is valid, errors are named by path or line, and
export → import gives back the same framework and mappings."""

import csv
import io
import json
from pathlib import Path

import pytest

from node.errors import InvalidInput, ValidationFailed
from node.framework.exporter import export_csv, export_json
from node.framework.importer import read_import

DATA = Path(__file__).resolve().parents[3] / "node" / "framework" / "data"
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
ORDER = ("rqf-2026.1-draft", "eqf-2017", "seed/gt-mnc", "seed/co-mnc", "seed/pe-mncp", "seed/cl-mctp", "seed/ie-nfq")


@pytest.fixture(scope="module")
def loaded():
    """Every bundled file read in order; later files find earlier ones as mapping targets."""
    frameworks = {}
    bundles = {}
    for name in ORDER:
        bundle, _ = read_import((DATA / f"{name}.json").read_text(encoding="utf-8"), "json", lambda i, v: frameworks.get(i))
        frameworks[bundle.framework.id] = bundle.framework
        bundles[bundle.framework.id] = bundle
    return frameworks, bundles


def find_in(frameworks):
    return lambda framework_id, version: frameworks.get(framework_id) if version in (None, frameworks.get(framework_id, None) and frameworks[framework_id].version) else None


def test_bundled_files_are_valid(loaded):
    frameworks, bundles = loaded
    assert len(frameworks["rqf"].levels) == 8 and frameworks["rqf"].version == "2026.1-draft"
    assert all(set(lv.descriptors) == {"knowledge", "skills", "autonomy"} for lv in frameworks["rqf"].levels)
    assert all(set(lv.descriptors["skills"]) == {"es", "en", "pt"} for lv in frameworks["rqf"].levels)
    assert [len(frameworks[f].levels) for f in ("co-mnc", "pe-mncp", "cl-mctp", "ie-nfq", "eqf")] == [8, 8, 5, 10, 8]
    gt = frameworks["gt-mnc"]
    assert {(q.code, q.level, q.isco, q.sector) for q in gt.qualifications} >= {
        ("GT-CON-ALB-2", "2", "7112", "construction"), ("GT-SAL-CUI-3", "3", "5322", "health"),
        ("GT-HOS-COC-3", "3", "5120", "hospitality")}
    ie = {r.source: r.target_level for r in bundles["ie-nfq"].mappings[0].rows}
    assert ie == {"1": "1", "2": "2", "3": "3", "4": "4", "5": "4", "6": "5", "7": "6", "8": "6", "9": "7", "10": "8"}


@pytest.mark.parametrize("framework_id", ["gt-mnc", "ie-nfq"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_round_trips(loaded, framework_id, fmt):
    frameworks, bundles = loaded
    bundle = bundles[framework_id]
    mappings = [_mapping(bundle, spec) for spec in bundle.mappings]
    text = (export_json if fmt == "json" else export_csv)(bundle.framework, mappings)
    again, _ = read_import(text, fmt, find_in(frameworks))
    assert again.framework == bundle.framework
    assert [m.rows for m in again.mappings] == [m.rows for m in bundle.mappings]


def _mapping(bundle, spec):
    from node.framework.model import Mapping

    return Mapping(bundle.framework.id, bundle.framework.version, spec.target_id, spec.target_version or "x", spec.rows)


def test_json_errors_are_named_by_path_and_nothing_is_returned(loaded):
    frameworks, _ = loaded
    doc = json.loads((DATA / "seed" / "gt-mnc.json").read_text(encoding="utf-8"))
    doc["qualifications"][1]["isco"] = "53"
    doc["qualifications"][2]["level"] = "7"
    doc["mappings"][0]["rows"][0]["approvedBy"] = doc["mappings"][0]["rows"][0]["author"]
    with pytest.raises(ValidationFailed) as caught:
        read_import(json.dumps(doc), "json", find_in(frameworks))
    paths = [e["path"] for e in caught.value.extensions["errors"]]
    assert paths == ["qualifications[1].isco", "qualifications[2].level", "mappings[0].rows[0].approvedBy"]
    assert "nothing imported" in caught.value.detail


def test_unknown_target_and_unknown_target_level(loaded):
    frameworks, _ = loaded
    doc = json.loads((DATA / "seed" / "cl-mctp.json").read_text(encoding="utf-8"))
    doc["mappings"][0]["rows"][0]["to"] = "11"
    with pytest.raises(ValidationFailed) as caught:
        read_import(json.dumps(doc), "json", find_in(frameworks))
    assert caught.value.extensions["errors"] == [{"path": "mappings[0].rows[0].to", "error": "unknown level 11 in rqf@2026.1-draft"}]
    with pytest.raises(ValidationFailed) as caught:
        read_import(json.dumps(doc), "json", lambda i, v: None)
    assert "unknown target framework rqf@2026.1-draft" in caught.value.extensions["errors"][0]["error"]


def test_not_json_and_unknown_keys():
    with pytest.raises(InvalidInput, match="not valid JSON"):
        read_import("{", "json", lambda i, v: None)
    with pytest.raises(ValidationFailed) as caught:
        read_import(json.dumps({"framework": {}, "extra": 1}), "json", lambda i, v: None)
    assert "extra" in [e["path"] for e in caught.value.extensions["errors"]]


def _csv(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


HEADER = ["record", "id", "version", "jurisdiction", "level", "code", "isco", "sector", "title_es", "target", "target_level",
          "relation", "rationale", "author", "approved_by"]


def test_csv_errors_are_reported_by_line_and_column(loaded):
    frameworks, _ = loaded
    text = _csv([
        HEADER,
        ["framework", "xx-nqf", "1", "GT", "", "", "", "", "Marco"],
        ["level", "", "", "", "1", "", "", "", "Uno"],
        ["level", "", "", "", "2", "", "", "", "Dos"],
        ["qualification", "", "", "", "2", "Q-1", "7112", "construction", "Albañilería"],
        ["qualification", "", "", "", "2", "Q-2", "71X2", "construction", "Electricidad"],
        ["qualification", "", "", "", "5", "Q-3", "5120", "hospitality", "Cocina"],
        ["qualification", "", "", "", "2", "Q-1", "7112", "construction", "Otra"],
        ["mapping", "", "", "", "1", "", "", "", "", "rqf", "1", "exact", "same", "Ana", "Luis"],
        ["mapping", "", "", "", "2", "", "", "", "", "rqf", "2", "exact", "same", "Ana", "Ana"],
    ])
    with pytest.raises(ValidationFailed) as caught:
        read_import(text, "csv", find_in(frameworks))
    errors = caught.value.extensions["errors"]
    assert [(e["line"], e.get("column")) for e in errors] == [(6, "isco"), (7, "level"), (8, "code"), (10, "approved_by")]
    assert "line 6" in caught.value.detail


def test_a_valid_csv_imports(loaded):
    frameworks, _ = loaded
    text = _csv([
        HEADER,
        ["framework", "xx-nqf", "1", "GT", "", "", "", "", "Marco"],
        ["level", "", "", "", "1", "", "", "", "Uno"],
        ["qualification", "", "", "", "1", "Q-1", "7112", "construction", "Albañilería"],
        ["mapping", "", "", "", "1", "", "", "", "", "rqf", "1", "exact", "same", "Ana", "Luis"],
        ["mapping", "", "", "", "", "Q-1", "", "", "", "rqf", "2", "partial", "more practice", "Ana", ""],
    ])
    bundle, targets = read_import(text, "csv", find_in(frameworks))
    assert bundle.framework.qualification("Q-1").title == {"es": "Albañilería"}
    assert [(r.source_type, r.source, r.target_level, r.approved) for r in bundle.mappings[0].rows] == [
        ("level", "1", "1", True), ("qualification", "Q-1", "2", False)]
    assert targets["rqf"].version == "2026.1-draft"


def test_csv_structure_problems():
    with pytest.raises(ValidationFailed) as caught:
        read_import(_csv([["record", "colour"], ["framework", "red"]]), "csv", lambda i, v: None)
    assert caught.value.extensions["errors"] == [{"line": 1, "column": "colour", "error": "unknown column"}]
    with pytest.raises(ValidationFailed) as caught:
        read_import(_csv([["record", "id"], ["frame", "x"]]), "csv", lambda i, v: None)
    assert caught.value.extensions["errors"][0]["line"] == 2
    with pytest.raises(ValidationFailed):
        read_import("", "csv", lambda i, v: None)


@pytest.mark.parametrize("name", ["framework-import.json", "framework-import.csv"])
def test_documented_examples_are_valid(loaded, name):
    frameworks, _ = loaded
    path = EXAMPLES / name
    bundle, _ = read_import(path.read_text(encoding="utf-8"), path.suffix[1:], find_in(frameworks))
    assert bundle.framework.id == "xx-mnc" and bundle.mappings


def test_json_and_csv_examples_say_the_same(loaded):
    frameworks, _ = loaded
    from_json, _ = read_import((EXAMPLES / "framework-import.json").read_text(encoding="utf-8"), "json", find_in(frameworks))
    from_csv, _ = read_import((EXAMPLES / "framework-import.csv").read_text(encoding="utf-8"), "csv", find_in(frameworks))
    assert from_json.framework == from_csv.framework
    assert [m.rows for m in from_json.mappings] == [m.rows for m in from_csv.mappings]
