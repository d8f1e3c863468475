"""The RPL case state machine: the whole state×state table, and who may do what."""

from datetime import datetime, timezone
from itertools import product

import pytest

from node.errors import Conflict, ForbiddenTransition, ValidationFailed
from node.rpl import model
from node.rpl.model import STATES, TRANSITIONS, Case, EvidenceItem, assessment_evidence, check_transition

AT = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)

ALLOWED = sorted((a, b) for a in STATES for b in TRANSITIONS[a])
FORBIDDEN = sorted((a, b) for a, b in product(STATES, STATES) if b not in TRANSITIONS[a])

# The path a case takes to reach each state (the data each dedicated step needs is filled in).
PATH = ["inquiry", "guidance", "eligibility", "identification", "documentation", "assessment_planned", "assessed", "decision", "appeal"]


def new_case() -> Case:
    return Case("case-1", "Ana", "Pérez", "ana@example.org", "tpl-welder", "inti", AT, "front desk")


def step(case: Case, to_state: str, actor: str | None = None) -> model.Transition:
    """Take one allowed step with whatever that step requires."""
    if to_state == "assessment_planned":
        return case.plan_assessment(assessor="Marta Quispe", method="observation", assessment_id="urn:uuid:a", actor="coordinator", reason="file complete", at=AT)
    if to_state == "decision":
        return case.decide(outcome="full", actor=actor or "Marta Quispe", reason="all units shown", at=AT)
    if to_state == "appeal":
        return case.appeal(reviewer="Luis Rojas", actor="Ana Pérez", reason="disagree", at=AT)
    if case.state == "appeal" and to_state == "closed":
        return case.resolve_appeal(outcome="upheld", actor="Luis Rojas", reason="evidence reviewed", at=AT)
    return case.advance(to_state, actor=actor or ("Marta Quispe" if to_state == "assessed" else "coordinator"), reason="next step", at=AT)


def case_in(state: str) -> Case:
    case = new_case()
    if state == "closed":
        step(case, "closed")
        return case
    for target in PATH[1 : PATH.index(state) + 1]:
        step(case, target)
    assert case.state == state
    return case


def test_the_table_covers_every_state_and_the_happy_path():
    assert set(TRANSITIONS) == set(STATES)
    assert all(PATH[i + 1] in TRANSITIONS[PATH[i]] for i in range(len(PATH) - 1))
    assert len(ALLOWED) + len(FORBIDDEN) == len(STATES) ** 2


@pytest.mark.parametrize("from_state,to_state", ALLOWED)
def test_allowed_transition(from_state, to_state):
    check_transition(from_state, to_state)
    case = case_in(from_state)
    transition = step(case, to_state)
    assert case.state == to_state
    assert (transition.from_state, transition.to_state, transition.at) == (from_state, to_state, AT)
    assert transition.actor and transition.reason


@pytest.mark.parametrize("from_state,to_state", FORBIDDEN)
def test_forbidden_transition(from_state, to_state):
    with pytest.raises(ForbiddenTransition):
        check_transition(from_state, to_state)
    case = case_in(from_state)
    with pytest.raises(ForbiddenTransition):
        step(case, to_state)
    assert case.state == from_state


def test_unknown_state_is_a_validation_error():
    with pytest.raises(ValidationFailed, match="unknown state"):
        new_case().advance("limbo", actor="x", reason="y", at=AT)


def test_dedicated_steps_cannot_be_skipped_by_advance():
    case = case_in("documentation")
    with pytest.raises(ValidationFailed, match="plan_assessment"):
        case.advance("assessment_planned", actor="x", reason="y", at=AT)
    case = case_in("assessed")
    with pytest.raises(ValidationFailed, match="decide"):
        case.advance("decision", actor="Marta Quispe", reason="y", at=AT)
    case = case_in("appeal")
    with pytest.raises(ValidationFailed, match="resolve_appeal"):
        case.advance("closed", actor="Luis Rojas", reason="y", at=AT)


def test_actor_and_reason_are_required():
    with pytest.raises(ValidationFailed) as info:
        new_case().advance("guidance", actor=" ", reason="", at=AT)
    assert {e["path"] for e in info.value.extensions["errors"]} == {"actor", "reason"}


def test_only_the_assessor_records_the_assessment_and_decides():
    case = case_in("assessment_planned")
    with pytest.raises(ValidationFailed, match="only the assessor"):
        case.advance("assessed", actor="someone else", reason="done", at=AT)
    case.advance("assessed", actor="  marta QUISPE ", reason="done", at=AT)
    with pytest.raises(ValidationFailed, match="only the assessor"):
        case.decide(outcome="full", actor="coordinator", reason="ok", at=AT)
    assert case.state == "assessed"


@pytest.mark.parametrize("reviewer", ["Marta Quispe", "marta  quispe", " MARTA QUISPE "])
def test_appeal_reviewer_must_differ_from_assessor(reviewer):
    case = case_in("decision")
    with pytest.raises(ValidationFailed, match="must not be the assessor"):
        case.appeal(reviewer=reviewer, actor="Ana Pérez", reason="unfair", at=AT)
    assert case.state == "decision" and case.reviewer is None


def test_only_the_reviewer_resolves_the_appeal():
    case = case_in("appeal")
    with pytest.raises(ValidationFailed, match="only the appeal reviewer"):
        case.resolve_appeal(outcome="upheld", actor="Marta Quispe", reason="I was right", at=AT)
    with pytest.raises(ValidationFailed, match="unknown appeal outcome"):
        case.resolve_appeal(outcome="maybe", actor="Luis Rojas", reason="x", at=AT)
    t = case.resolve_appeal(outcome="overturned", actor="Luis Rojas", reason="observation was too short", at=AT)
    assert case.state == "closed" and case.appeal_outcome == "overturned" and t.details == {"appeal_outcome": "overturned"}


def test_partial_needs_units_and_other_outcomes_refuse_them():
    case = case_in("assessed")
    with pytest.raises(ValidationFailed, match="must list the units"):
        case.decide(outcome="partial", actor="Marta Quispe", reason="r", at=AT)
    with pytest.raises(ValidationFailed, match="only a partial"):
        case.decide(outcome="full", units=("U1",), actor="Marta Quispe", reason="r", at=AT)
    with pytest.raises(ValidationFailed, match="unknown decision"):
        case.decide(outcome="great", actor="Marta Quispe", reason="r", at=AT)
    case.decide(outcome="partial", units=("U1", " U3 "), actor="Marta Quispe", reason="r", at=AT)
    assert case.units_certified == ("U1", "U3") and case.issues_credential


def test_not_yet_competent_issues_nothing():
    case = case_in("assessed")
    case.decide(outcome="not_yet_competent", actor="Marta Quispe", reason="gaps in U2", at=AT)
    assert not case.issues_credential
    with pytest.raises(Conflict):
        assessment_evidence(case)


def test_assessment_evidence_points_to_the_assessment():
    case = case_in("assessed")
    case.decide(outcome="partial", units=("U1", "U2"), actor="Marta Quispe", reason="r", at=AT)
    plain = assessment_evidence(case)
    assert plain["id"] == "urn:uuid:a" and set(plain) == {"id", "type", "name", "description", "narrative", "genre"}
    assert "Assessor: Marta Quispe" in plain["description"] and "Units certified: U1, U2." in plain["description"]
    evidence = assessment_evidence(case, structured=True)
    assert evidence["assessor"] == "Marta Quispe" and evidence["assessmentMethod"] == "observation"
    assert evidence["assessmentDate"] == "2026-11-23T10:00:00Z"
    assert evidence["unitsCertified"] == ["U1", "U2"] and evidence["rplDecision"] == "partial"


def test_evidence_items():
    item = EvidenceItem.create(name="photo", media_type="image/jpeg", content=b"abc")
    assert item.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with pytest.raises(ValidationFailed, match="invalid RPL evidence"):
        EvidenceItem.create(name="photo", media_type="image/jpeg", content=b"abc", sha256="0" * 64)
    with pytest.raises(ValidationFailed):
        EvidenceItem.create(name="cert", media_type="application/pdf", url="https://x.example/c.pdf")  # no digest
    with pytest.raises(ValidationFailed):
        EvidenceItem.create(name="cert", media_type="pdf", url="ftp://x", sha256="a" * 64)
    ok = EvidenceItem.create(name="cert", media_type="application/pdf", url="https://x.example/c.pdf", sha256="A" * 64)
    assert ok.sha256 == "a" * 64


@pytest.mark.parametrize("state", ["decision", "appeal", "closed"])
def test_no_evidence_after_the_decision(state):
    with pytest.raises(Conflict):
        case_in(state).check_can_attach_evidence()


def test_overlong_values_are_validation_errors_not_database_errors():
    case = case_in("documentation")
    with pytest.raises(ValidationFailed) as info:
        case.plan_assessment(assessor="A" * 201, method="m" * 501, assessment_id="urn:uuid:x", actor="c", reason="r", at=AT)
    assert {e["path"] for e in info.value.extensions["errors"]} == {"assessor", "method"}
    with pytest.raises(ValidationFailed, match="actor: at most 200"):
        new_case().advance("guidance", actor="x" * 201, reason="r", at=AT)
    with pytest.raises(ValidationFailed, match="content: at most 10 MiB"):
        EvidenceItem.create(name="big", media_type="video/mp4", content=b"\0" * (10 * 1024 * 1024 + 1))
    assert case.state == "documentation"


@pytest.mark.parametrize("outcome,reassessable", [("partial", True), ("not_yet_competent", True), ("full", False)])
def test_reassessment_follows_a_decision_that_did_not_fully_recognise(outcome, reassessable):
    case = case_in("assessed")
    case.decide(outcome=outcome, units=("U1",) if outcome == "partial" else (), actor="Marta Quispe", reason="r", at=AT)
    if reassessable:
        case.check_can_be_followed_by(identifier="ana@example.org", template_id="tpl-welder")
    else:
        with pytest.raises(Conflict, match="does not call for a reassessment"):
            case.check_can_be_followed_by(identifier="ana@example.org", template_id="tpl-welder")


def test_reassessment_rules():
    with pytest.raises(Conflict):
        case_in("assessed").check_can_be_followed_by(identifier="ana@example.org", template_id="tpl-welder")  # no decision yet
    pending = case_in("appeal")  # full decision under appeal: wait for the reviewer
    with pytest.raises(Conflict):
        pending.check_can_be_followed_by(identifier="ana@example.org", template_id="tpl-welder")
    pending.resolve_appeal(outcome="overturned", actor="Luis Rojas", reason="too short", at=AT)
    pending.check_can_be_followed_by(identifier="ana@example.org", template_id="tpl-welder")
    with pytest.raises(ValidationFailed) as info:
        pending.check_can_be_followed_by(identifier="luis@example.org", template_id="tpl-cook")
    assert {e["path"] for e in info.value.extensions["errors"]} == {"identifier", "template_id"}
