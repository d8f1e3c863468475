"""Every validation rule of frameworks, qualifications and mapping rows (pure, no database)."""

import pytest

from node.framework.model import (
    Mapping,
    MappingRow,
    Problems,
    check_row_against,
    duplicate_sources,
    inverse,
    parse_framework,
    parse_mapping_row,
    publication_problems,
    validate_isco,
    weakest,
)


def framework_doc(**overrides):
    doc = {"id": "xx-nqf", "version": "1", "kind": "national", "jurisdiction": "GT", "title": {"es": "Marco"},
           "levels": [{"level": 1, "title": {"es": "Uno"}}, {"level": "2", "title": {"es": "Dos"}}]}
    doc.update(overrides)
    return doc


def qualification(**overrides):
    item = {"code": "Q-1", "title": {"es": "Albañilería"}, "level": "2", "isco": "7112", "sector": "construction"}
    item.update(overrides)
    return item


def parse(doc=None, qualifications=None):
    problems = Problems()
    framework = parse_framework(doc or framework_doc(), problems, qualifications=qualifications)
    return framework, problems.items


def errors_at(items, path):
    return [p["error"] for p in items if p["path"] == path]


def test_a_valid_framework_parses_with_levels_as_labels():
    framework, problems = parse(qualifications=[qualification()])
    assert problems == []
    assert [lv.level for lv in framework.levels] == ["1", "2"]
    assert framework.qualification("Q-1").isco == "7112"
    assert framework.key == "xx-nqf@1"


def test_a_national_framework_may_have_no_levels():
    framework, problems = parse(framework_doc(levels=[]), [qualification(level=None)])
    assert problems == [] and framework.levels == () and framework.qualification("Q-1").level is None


def test_a_qualification_needs_a_level_when_the_framework_has_levels():
    _, problems = parse(qualifications=[qualification(level=None)])
    assert errors_at(problems, "qualifications[0].level")


def test_unknown_level_is_reported_with_the_known_levels():
    _, problems = parse(qualifications=[qualification(level="9")])
    assert errors_at(problems, "qualifications[0].level") == ["unknown level 9 (levels: 1, 2)"]


def test_duplicate_qualification_codes():
    _, problems = parse(qualifications=[qualification(), qualification(title={"en": "Masonry"})])
    assert errors_at(problems, "qualifications[1].code") == ["duplicate qualification code Q-1"]


def test_duplicate_levels():
    _, problems = parse(framework_doc(levels=[{"level": "1"}, {"level": 1}]))
    assert errors_at(problems, "framework.levels[1].level") == ["duplicate level 1"]


@pytest.mark.parametrize("code", ["711", "71120", "71a2", "0000", "", 7112.0])
def test_bad_isco_codes(code):
    _, problems = parse(qualifications=[qualification(isco=code)])
    assert errors_at(problems, "qualifications[0].isco")


def test_isco_rules():
    assert validate_isco("7112") is None and validate_isco("0110") is None
    assert "four digits" in validate_isco("711")
    assert validate_isco("0000") is not None


def test_unknown_language_and_empty_title():
    _, problems = parse(framework_doc(title={"fr": "Cadre"}))
    assert errors_at(problems, "framework.title.fr")
    _, problems = parse(framework_doc(title={}))
    assert errors_at(problems, "framework.title")


def test_unknown_descriptor_domain():
    _, problems = parse(framework_doc(levels=[{"level": "1", "descriptors": {"attitudes": {"es": "x"}}}]))
    assert errors_at(problems, "framework.levels[0].descriptors.attitudes")


def test_framework_identity_rules():
    _, problems = parse(framework_doc(id="GT MNC", version="", kind="local", jurisdiction=None))
    paths = {p["path"] for p in problems}
    assert {"framework.id", "framework.version", "framework.kind"} <= paths
    _, problems = parse(framework_doc(jurisdiction=None))
    assert errors_at(problems, "framework.jurisdiction")
    _, problems = parse(framework_doc(id="resolve"))
    assert "reserved" in errors_at(problems, "framework.id")[0]
    _, problems = parse(framework_doc(kind="regional", jurisdiction=None, levels=[]))
    assert errors_at(problems, "framework.levels")


def test_workload_units_and_esco():
    _, problems = parse(qualifications=[qualification(workloadHours=0, esco=["https://esco.example/x"], competencyUnits=[{"title": {}}])])
    paths = {p["path"] for p in problems}
    assert {"qualifications[0].workloadHours", "qualifications[0].esco[0]", "qualifications[0].competencyUnits[0]"} <= paths


def row(**overrides):
    item = {"from": {"level": "1"}, "to": "1", "relation": "exact", "rationale": "same descriptors", "author": "Ana"}
    item.update(overrides)
    return item


def parse_row(item):
    problems = Problems()
    return parse_mapping_row(item, "rows[0]", problems), problems.items


def test_mapping_row_rules():
    parsed, problems = parse_row(row())
    assert problems == [] and parsed.source_key == ("level", "1") and not parsed.approved
    assert errors_at(parse_row(row(relation="equivalent"))[1], "rows[0].relation")
    assert errors_at(parse_row(row(to=None))[1], "rows[0].to")
    assert errors_at(parse_row(row(relation="none"))[1], "rows[0].to")  # none has no target
    parsed, problems = parse_row(row(relation="none", to=None))
    assert problems == [] and parsed.target_level is None
    assert errors_at(parse_row(row(author=""))[1], "rows[0].author")
    assert errors_at(parse_row(row(rationale=" "))[1], "rows[0].rationale")
    assert errors_at(parse_row(row(evidence="ftp://x"))[1], "rows[0].evidence")
    assert errors_at(parse_row(row(**{"from": {"level": "1", "qualification": "Q"}}))[1], "rows[0].from")


def test_the_approver_must_be_a_second_person():
    _, problems = parse_row(row(approvedBy="ana"))
    assert errors_at(problems, "rows[0].approvedBy") == ["the approver must be a second person, not the author"]
    parsed, problems = parse_row(row(approvedBy="Luis"))
    assert problems == [] and parsed.approved


def test_rows_must_fit_both_frameworks():
    source, _ = parse(qualifications=[qualification()])
    target, _ = parse(framework_doc(id="rqf", kind="regional", jurisdiction=None))
    problems = Problems()
    for i, item in enumerate([row(**{"from": {"level": "7"}}), row(to="9"), row(**{"from": {"qualification": "NOPE"}})]):
        check_row_against(parse_row(item)[0], source, target, f"rows[{i}]", problems)
    assert [p["path"] for p in problems.items] == ["rows[0].from.level", "rows[1].to", "rows[2].from.qualification"]


def test_a_source_mapped_twice():
    problems = Problems()
    duplicate_sources([parse_row(row())[0], parse_row(row(to="2"))[0]], "rows", problems)
    assert problems.items == [{"path": "rows[1].from", "error": "level 1 is mapped twice"}]


def test_publication_needs_every_level_covered_and_every_row_approved():
    source, _ = parse()
    level_1 = MappingRow("level", "1", "1", "exact", "r", None, "Ana", "Luis")
    mapping = Mapping("xx-nqf", "1", "rqf", "1", (level_1,))
    assert publication_problems(mapping, source) == ["levels not mapped (map them, or say relation none): 2"]
    unapproved_none = MappingRow("level", "2", None, "none", "no counterpart", None, "Ana")
    problems = publication_problems(mapping.with_row(unapproved_none), source)
    assert problems == ["rows awaiting approval by a second person: level 2"]
    approved_none = MappingRow("level", "2", None, "none", "no counterpart", None, "Ana", "Luis")
    assert publication_problems(mapping.with_row(approved_none), source) == []


def test_relation_order_and_inverse():
    assert weakest(["exact", "close", "broad"]) == "broad"
    assert weakest(["exact", "partial", "narrow"]) == "partial"
    assert weakest(["close", "exact"]) == "close"
    assert inverse("broad") == "narrow" and inverse("narrow") == "broad" and inverse("close") == "close"
