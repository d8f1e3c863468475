"""The cross-framework query over the seed data, without a database: chains, weakest links, no mapping."""

from pathlib import Path

import pytest

from node.errors import InvalidInput, NotFound
from node.framework.importer import read_import
from node.framework.model import Mapping, MappingRow
from node.framework.resolve import PublishedMapping, parse_reference, resolve

DATA = Path(__file__).resolve().parents[3] / "node" / "framework" / "data"
ORDER = ("rqf-2026.1-draft", "eqf-2017", "seed/gt-mnc", "seed/co-mnc", "seed/pe-mncp", "seed/cl-mctp", "seed/ie-nfq")


@pytest.fixture(scope="module")
def world():
    frameworks, published = {}, []
    for name in ORDER:
        bundle, targets = read_import((DATA / f"{name}.json").read_text(encoding="utf-8"), "json", lambda i, v: frameworks.get(i))
        frameworks[bundle.framework.id] = bundle.framework
        for spec in bundle.mappings:
            target = targets[spec.target_id]
            mapping = Mapping(bundle.framework.id, bundle.framework.version, target.id, target.version, spec.rows)
            published.append(PublishedMapping(bundle.framework, target, mapping, 1))
    return frameworks, published


def levels(answer):
    return [r["level"] for r in answer["results"]]


# Ireland's 2009 NFQ-EQF referencing: 10 national levels onto 8, two pairs sharing a level.
@pytest.mark.parametrize("source,expected", [("1", ["1"]), ("4", ["4"]), ("5", ["4"]), ("6", ["5"]), ("7", ["6"]), ("8", ["6"]), ("9", ["7"]), ("10", ["8"])])
def test_ireland_nfq_to_eqf(world, source, expected):
    answer = resolve(f"ie-nfq:{source}", "eqf", *world)
    assert levels(answer) == expected
    step = answer["results"][0]["chain"][0]
    assert step["mapping"] == {"framework": "ie-nfq", "frameworkVersion": "2003", "target": "eqf", "targetVersion": "2017", "version": 1}


def test_eqf_back_to_nfq_lists_every_level_mapped_there(world):
    assert sorted(levels(resolve("eqf:6", "ie-nfq", *world)), key=int) == ["7", "8"]
    assert sorted(levels(resolve("eqf:4", "ie-nfq", *world)), key=int) == ["4", "5"]


def test_guatemalan_qualification_to_a_colombian_level_through_the_rqf(world):
    answer = resolve("gt-mnc:GT-CON-ALB-2", "co-mnc", *world)
    assert answer["from"] == {"framework": "gt-mnc", "version": "2025.1", "qualification": "GT-CON-ALB-2", "level": "2"}
    [result] = answer["results"]
    assert result["level"] == "2" and result["relation"] == "exact" and result["via"] == ["rqf:2"]
    assert [(s["from"], s["to"], s["kind"]) for s in result["chain"]] == [
        ("gt-mnc:GT-CON-ALB-2", "gt-mnc:2", "qualification-level"), ("gt-mnc:2", "rqf:2", "forward"), ("rqf:2", "co-mnc:2", "inverse")]
    assert answer["rqf"] == [{"level": "2", "relation": "exact"}]


def test_a_direct_qualification_row_is_used_instead_of_the_level(world):
    result = resolve("gt-mnc:GT-HOS-COC-3", "rqf", *world)["results"][0]
    assert [s["from"] for s in result["chain"]] == ["gt-mnc:GT-HOS-COC-3"]


def test_the_weakest_link_is_reported(world):
    # gt 4 → rqf 4 is close, rqf 4 → cl 4 is close; cl 5 → rqf 5 is broad, read backwards narrow.
    assert resolve("gt-mnc:4", "co-mnc", *world)["results"][0]["relation"] == "close"
    result = resolve("gt-mnc:5", "cl-mctp", *world)["results"][0]
    assert result["level"] == "5" and result["relation"] == "narrow"
    assert [s["relation"] for s in result["chain"]] == ["close", "narrow"]


def test_no_mapping(world):
    with pytest.raises(NotFound, match="no mapping"):
        resolve("ie-nfq:7", "rqf", *world)
    with pytest.raises(NotFound, match="neither a level nor a qualification"):
        resolve("gt-mnc:99", "rqf", *world)
    with pytest.raises(NotFound, match="unknown framework"):
        resolve("xx:1", "rqf", *world)


def test_relation_none_is_never_followed(world):
    frameworks, published = world
    gt = next(p for p in published if p.source.id == "gt-mnc")
    no_level_2 = MappingRow("level", "2", None, "none", "no counterpart", None, "Ana", "Luis")
    changed = PublishedMapping(gt.source, gt.target, gt.mapping.with_row(no_level_2), 2)
    others = [p for p in published if p.source.id != "gt-mnc"]
    with pytest.raises(NotFound, match="no mapping"):
        resolve("gt-mnc:GT-CON-ALB-2", "co-mnc", frameworks, others + [changed])


def test_unpublished_frameworks_are_not_followed(world):
    frameworks, published = world
    with pytest.raises(NotFound):
        resolve("gt-mnc:2", "co-mnc", frameworks, [p for p in published if p.source.id != "co-mnc"])


def test_references():
    assert parse_reference("gt-mnc:GT-CON-ALB-2") == ("gt-mnc", "GT-CON-ALB-2")
    with pytest.raises(InvalidInput):
        parse_reference("ie-nfq")


def test_qualification_to_its_own_framework(world):
    assert levels(resolve("gt-mnc:GT-SAL-CUI-3", "gt-mnc", *world)) == ["3"]
