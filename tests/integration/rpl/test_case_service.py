"""RPL cases on a real database: history, evidence, decisions that issue credentials, appeals."""

import hashlib

import pytest
from sqlalchemy import delete, text, update

from node.errors import Conflict, ForbiddenTransition, NotFound, ValidationFailed
from node.rpl.orm import CaseTransitionRow

ASSESSOR, REVIEWER = "Marta Quispe", "Luis Rojas"
STEPS = ["guidance", "eligibility", "identification", "documentation"]


async def open_case(service, **overrides):
    data = dict(institution="intecap", template_id="welder-1", given_name="Ana", family_name="Pérez",
                identifier="ana@example.org", actor="front desk")
    data.update(overrides)
    return await service.open(**data)


async def to_assessed(service, case_id, clock):
    for state in STEPS:
        clock.advance(days=1)
        await service.advance(case_id, state, actor="coordinator", reason=f"ready for {state}")
    await service.plan_assessment(case_id, assessor=ASSESSOR, method="workplace observation", actor="coordinator", reason="file complete")
    return await service.advance(case_id, "assessed", actor=ASSESSOR, reason="observed on site")


async def test_the_whole_path_is_recorded_in_order(cases, clock):
    service, issuer, _ = cases
    case = await open_case(service)
    assert case["state"] == "inquiry" and case["history"][0]["from"] is None
    await to_assessed(service, case["id"], clock)
    decided = await service.decide(case["id"], outcome="full", actor=ASSESSOR, reason="all units demonstrated")
    assert decided["state"] == "decision"
    assert decided["decision"]["credentialId"] == "urn:uuid:credential-1"
    history = decided["history"]
    assert [h["to"] for h in history] == ["inquiry", *STEPS, "assessment_planned", "assessed", "decision"]
    assert [h["seq"] for h in history] == list(range(1, 9))
    assert history[-1]["actor"] == ASSESSOR and history[-1]["details"]["credential_id"] == "urn:uuid:credential-1"
    assert history[1]["at"] == "2026-06-02T12:00:00Z"

    order = issuer.orders[0]
    assert (order.template_id, order.identifier, order.institution) == ("welder-1", "ana@example.org", "intecap")
    evidence = order.evidence[0]
    assert evidence["id"] == decided["assessment"]["id"] and evidence["id"].startswith("urn:uuid:")
    assert f"Assessor: {ASSESSOR}" in evidence["description"] and "Method: workplace observation" in evidence["description"]


async def test_partial_lists_units_and_not_yet_competent_issues_nothing(cases, clock):
    service, issuer, _ = cases
    a = await open_case(service)
    await to_assessed(service, a["id"], clock)
    decided = await service.decide(a["id"], outcome="partial", units=("U1", "U3"), actor=ASSESSOR, reason="U2 not shown")
    assert decided["decision"]["unitsCertified"] == ["U1", "U3"]
    assert "Units certified: U1, U3." in issuer.orders[-1].evidence[0]["description"]
    b = await open_case(service, identifier="luis@example.org")
    await to_assessed(service, b["id"], clock)
    decided = await service.decide(b["id"], outcome="not_yet_competent", actor=ASSESSOR, reason="gaps in U1-U3")
    assert decided["decision"]["credentialId"] is None and len(issuer.orders) == 1


async def test_failed_issuance_records_nothing(cases, clock):
    service, issuer, _ = cases
    case = await open_case(service)
    await to_assessed(service, case["id"], clock)
    issuer.fail = True
    with pytest.raises(ValidationFailed, match="accreditation"):
        await service.decide(case["id"], outcome="full", actor=ASSESSOR, reason="ok")
    after = await service.show(case["id"])
    assert after["state"] == "assessed" and after["decision"] is None and len(after["history"]) == 7


async def test_appeal_needs_a_different_reviewer_who_alone_resolves_it(cases, clock):
    service, _, _ = cases
    case = await open_case(service)
    await to_assessed(service, case["id"], clock)
    await service.decide(case["id"], outcome="not_yet_competent", actor=ASSESSOR, reason="gaps")
    with pytest.raises(ValidationFailed, match="must not be the assessor"):
        await service.appeal(case["id"], reviewer=" marta quispe", actor="Ana Pérez", reason="unfair")
    appealed = await service.appeal(case["id"], reviewer=REVIEWER, actor="Ana Pérez", reason="the observation lasted 10 minutes")
    assert appealed["state"] == "appeal" and appealed["appeal"]["reviewer"] == REVIEWER
    with pytest.raises(ValidationFailed, match="only the appeal reviewer"):
        await service.resolve_appeal(case["id"], outcome="upheld", actor=ASSESSOR, reason="I stand by it")
    closed = await service.resolve_appeal(case["id"], outcome="overturned", actor=REVIEWER, reason="reassessment owed")
    assert closed["state"] == "closed" and closed["appeal"]["outcome"] == "overturned"
    with pytest.raises(ForbiddenTransition):
        await service.advance(case["id"], "guidance", actor="coordinator", reason="again")


async def test_forbidden_transitions_leave_no_trace(cases):
    service, _, _ = cases
    case = await open_case(service)
    with pytest.raises(ForbiddenTransition):
        await service.advance(case["id"], "assessed", actor=ASSESSOR, reason="skip ahead")
    assert len((await service.show(case["id"]))["history"]) == 1


async def test_evidence_by_url_or_stored_bytes(cases, clock):
    service, _, _ = cases
    case = await open_case(service)
    by_url = await service.attach_evidence(case["id"], name="Employer letter", media_type="application/pdf", actor="Ana Pérez",
                                           url="https://files.example/letter.pdf", sha256="ab" * 32)
    stored = await service.attach_evidence(case["id"], name="Weld photo", media_type="image/jpeg", actor="Ana Pérez", content=b"\xff\xd8jpeg")
    assert stored["sha256"] == hashlib.sha256(b"\xff\xd8jpeg").hexdigest() and stored["stored"] is True
    content, media_type, digest = await service.evidence_content(case["id"], stored["id"])
    assert content == b"\xff\xd8jpeg" and media_type == "image/jpeg"
    with pytest.raises(NotFound):
        await service.evidence_content(case["id"], by_url["id"])  # not stored here: fetch from its URL
    shown = await service.show(case["id"])
    assert [e["name"] for e in shown["evidence"]] == ["Employer letter", "Weld photo"]
    await to_assessed(service, case["id"], clock)
    await service.decide(case["id"], outcome="full", actor=ASSESSOR, reason="ok")
    with pytest.raises(Conflict):
        await service.attach_evidence(case["id"], name="late", media_type="text/plain", actor="x", content=b"late")


async def test_open_validates_the_candidate(cases):
    service, _, _ = cases
    with pytest.raises(ValidationFailed) as info:
        await open_case(service, identifier="not an address", given_name="", family_name="", institution=" ")
    assert {e["path"] for e in info.value.extensions["errors"]} == {"identifier", "given_name", "institution"}
    with pytest.raises(ValidationFailed, match="given_name: at most 200"):
        await open_case(service, given_name="Ana" * 100)  # PostgreSQL would refuse it: must be a 422, not a 500
    with pytest.raises(NotFound):
        await service.show("no-such-case")


async def test_history_is_append_only_in_the_database(cases):
    service, _, uow_factory = cases
    case = await open_case(service)
    for statement in (update(CaseTransitionRow).values(reason="rewritten"), delete(CaseTransitionRow)):
        async with uow_factory() as uow:
            with pytest.raises(Exception, match="append-only"):
                await uow.session.execute(statement)
                await uow.commit()  # PostgreSQL checks deletions at commit
    assert (await service.show(case["id"]))["history"][0]["reason"] == "inquiry received"


async def test_a_case_can_be_erased_whole_in_one_transaction(cases):
    """Personal-data erasure: the case, its evidence and its history go together, or not at all."""
    from node.rpl.orm import CaseEvidenceRow, CaseRow

    service, _, uow_factory = cases
    case = await open_case(service)
    await service.attach_evidence(case["id"], name="n", media_type="text/plain", actor="a", content=b"x")
    async with uow_factory() as uow:
        session = uow.session
        if session.bind.dialect.name == "sqlite":
            await session.execute(text("PRAGMA defer_foreign_keys = ON"))
            order = (CaseEvidenceRow, CaseRow, CaseTransitionRow)  # the history once its case is gone
        else:
            order = (CaseEvidenceRow, CaseTransitionRow, CaseRow)  # checked at commit
        for table in order:
            await session.execute(delete(table))
        await uow.commit()
    with pytest.raises(NotFound):
        await service.show(case["id"])


async def test_list_filters(cases, clock):
    service, _, _ = cases
    a = await open_case(service)
    await open_case(service, institution="inti", identifier="b@example.org")
    await service.advance(a["id"], "guidance", actor="x", reason="y")
    assert [c["id"] for c in await service.list(state="guidance")] == [a["id"]]
    assert len(await service.list(institution="inti")) == 1


async def test_concurrent_changes_to_one_case_cannot_both_win(cases):
    """Two people move the same case at once: exactly one transition lands, the other gets a Conflict."""
    import asyncio

    service, _, _ = cases
    case = await open_case(service)
    outcomes = await asyncio.gather(
        service.advance(case["id"], "guidance", actor="a", reason="first"),
        service.advance(case["id"], "guidance", actor="b", reason="second"),
        return_exceptions=True,
    )
    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1  # ForbiddenTransition is a Conflict too
    history = (await service.show(case["id"]))["history"]
    assert [h["to"] for h in history] == ["inquiry", "guidance"]


async def test_a_reassessment_case_follows_a_partial_decision(cases, clock):
    service, _, _ = cases
    first = await open_case(service)
    await to_assessed(service, first["id"], clock)
    with pytest.raises(Conflict):
        await open_case(service, follows=first["id"])  # not decided yet
    await service.decide(first["id"], outcome="partial", units=("U1",), actor=ASSESSOR, reason="U2 missing")
    second = await open_case(service, follows=first["id"], reason="reassessment of U2 after gap training")
    assert second["follows"] == first["id"] and second["state"] == "inquiry"
    with pytest.raises(ValidationFailed, match="same candidate"):
        await open_case(service, follows=first["id"], identifier="someone@example.org")
    with pytest.raises(NotFound):
        await open_case(service, follows="no-such-case")
