""""What level in framework Y does qualification/level X of framework F correspond to?"

Pure. Follows only *published* mapping rows, forwards (national level → RQF) and backwards (RQF →
another country's level), through at most MAX_HOPS mappings, never entering a framework twice.
Each answer carries its chain of mapping rows (with the mapping version used) and the chain's
weakest link; answers are ordered strongest first (see RELATION_STRENGTH in model.py), then shortest.

A qualification is resolved through its own mapping row where the ministry mapped it directly,
otherwise through its national level (a definitional step, shown in the chain as `qualification-level`).
Rows with relation `none` say there is no counterpart and are never followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from node.errors import InvalidInput, NotFound
from node.framework.model import RELATION_STRENGTH, Framework, Mapping, MappingRow, inverse, sort_levels, weakest

MAX_HOPS = 4
RQF_ID = "rqf"


@dataclass(frozen=True)
class PublishedMapping:
    source: Framework
    target: Framework
    mapping: Mapping
    version: int

    def ref(self) -> dict[str, Any]:
        return {"framework": self.source.id, "frameworkVersion": self.source.version, "target": self.target.id,
                "targetVersion": self.target.version, "version": self.version}


@dataclass(frozen=True)
class _Node:
    framework: str
    kind: str  # level | qualification
    code: str

    def label(self) -> str:
        return f"{self.framework}:{self.code}"


def parse_reference(value: str) -> tuple[str, str]:
    """`ie-nfq:7` or `gt-mnc:GT-CON-ALB-2` → (framework id, level or qualification code)."""
    framework, sep, code = (value or "").partition(":")
    if not sep or not framework.strip() or not code.strip():
        raise InvalidInput(f"expected FRAMEWORK:CODE (a level or a qualification code), e.g. ie-nfq:7, not {value!r}")
    return framework.strip(), code.strip()


def _step(source: _Node, target: _Node, row: MappingRow | None, published: PublishedMapping | None, direction: str) -> dict[str, Any]:
    if row is None:
        return {"from": source.label(), "to": target.label(), "relation": "exact", "kind": "qualification-level"}
    relation = row.relation if direction == "forward" else inverse(row.relation)
    return {"from": source.label(), "to": target.label(), "relation": relation, "kind": direction,
            "mapping": published.ref(), "rationale": row.rationale, **({"evidence": row.evidence} if row.evidence else {})}


def _edges(node: _Node, frameworks: dict[str, Framework], published: list[PublishedMapping], skip_targets: frozenset[str]):
    """(next node, step, targets whose level rows the next node must skip) for every row leaving `node`."""
    if node.kind == "qualification":
        direct: set[str] = set()
        for pm in published:
            if pm.source.id != node.framework:
                continue
            row = pm.mapping.row("qualification", node.code)
            if row is not None and row.relation != "none":
                direct.add(pm.target.id)
                target = _Node(pm.target.id, "level", row.target_level)
                yield target, _step(node, target, row, pm, "forward"), frozenset()
            elif row is not None:
                direct.add(pm.target.id)  # explicitly "no counterpart" there: do not fall back to the level
        qualification = frameworks[node.framework].qualification(node.code)
        if qualification is not None and qualification.level is not None:
            level = _Node(node.framework, "level", qualification.level)
            yield level, _step(node, level, None, None, "definition"), frozenset(direct)
        return
    for pm in published:
        if pm.source.id == node.framework and pm.target.id not in skip_targets:
            row = pm.mapping.row("level", node.code)
            if row is not None and row.relation != "none":
                target = _Node(pm.target.id, "level", row.target_level)
                yield target, _step(node, target, row, pm, "forward"), frozenset()
        if pm.target.id == node.framework:
            for row in pm.mapping.rows:
                if row.source_type == "level" and row.target_level == node.code and row.relation != "none":
                    target = _Node(pm.source.id, "level", row.source)
                    yield target, _step(node, target, row, pm, "inverse"), frozenset()


def _paths(start: _Node, goal: str, frameworks: dict[str, Framework], published: list[PublishedMapping]) -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = []
    stack = [(start, [], frozenset({start.framework}), frozenset())]
    while stack:
        node, steps, visited, skip = stack.pop()
        if node.framework == goal and node.kind == "level" and steps:
            found.append(steps)
            continue
        hops = sum(1 for s in steps if s["kind"] != "qualification-level")
        if hops >= MAX_HOPS:
            continue
        for target, step, next_skip in _edges(node, frameworks, published, skip):
            same = target.framework == node.framework  # the definitional qualification → level step
            if not same and target.framework in visited:
                continue
            stack.append((target, steps + [step], visited | {target.framework}, next_skip))
    return found


def _answers(paths: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The best chain to each reached level: strongest weakest link, then fewest steps."""
    best: dict[str, dict[str, Any]] = {}
    for steps in paths:
        level = steps[-1]["to"].partition(":")[2]
        link = weakest(s["relation"] for s in steps)
        answer = {"level": level, "relation": link, "chain": steps,
                  "via": [s["to"] for s in steps[:-1] if s["kind"] != "qualification-level"]}
        current = best.get(level)
        if current is None or (RELATION_STRENGTH[link], -len(steps)) > (RELATION_STRENGTH[current["relation"]], -len(current["chain"])):
            best[level] = answer
    order = {lv: i for i, lv in enumerate(sort_levels(best))}
    return sorted(best.values(), key=lambda a: (-RELATION_STRENGTH[a["relation"]], len(a["chain"]), order[a["level"]]))


def resolve(reference: str, goal: str, frameworks: dict[str, Framework], published: list[PublishedMapping]) -> dict[str, Any]:
    """Answer the cross-framework query; NotFound when there is no published chain."""
    framework_id, code = parse_reference(reference)
    source = frameworks.get(framework_id)
    if source is None:
        raise NotFound(f"unknown framework {framework_id}")
    if goal not in frameworks:
        raise NotFound(f"unknown framework {goal}")
    qualification = source.qualification(code)
    if qualification is not None:
        start = _Node(framework_id, "qualification", code)
        origin: dict[str, Any] = {"framework": framework_id, "version": source.version, "qualification": code,
                                  "level": qualification.level}
    elif source.level(code) is not None:
        start = _Node(framework_id, "level", code)
        origin = {"framework": framework_id, "version": source.version, "level": code}
    else:
        raise NotFound(f"{code} is neither a level nor a qualification code of {source.key}")
    if goal == framework_id:
        if qualification is None or qualification.level is None:
            raise InvalidInput(f"{reference} already is a level of {goal}")
        step = _step(start, _Node(goal, "level", qualification.level), None, None, "definition")
        answers = [{"level": qualification.level, "relation": "exact", "chain": [step], "via": []}]
    else:
        answers = _answers(_paths(start, goal, frameworks, published))
    if not answers:
        raise NotFound(f"no mapping: no published chain of mapping rows leads from {reference} to {goal}")
    result: dict[str, Any] = {"from": origin, "to": {"framework": goal, "version": frameworks[goal].version}, "results": answers}
    if goal != RQF_ID and RQF_ID in frameworks and framework_id != RQF_ID:
        result["rqf"] = [{"level": a["level"], "relation": a["relation"]} for a in _answers(_paths(start, RQF_ID, frameworks, published))]
    return result
