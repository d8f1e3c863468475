"""Reads and writes of RPL rows inside a unit of work; maps rows to the pure models and back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from node.clock import isoformat_z
from node.documents import SignedDocumentStore

from node.rpl.model import Case, Transition
from node.rpl.orm import (
    CaseEvidenceRow,
    CaseRow,
    CaseTransitionRow,
    CatalogueRow,
    ReadinessAssessmentRow,
    ReadinessPublicationRow,
)

# Signed readiness assessments: one row per published assessment, the newest per jurisdiction is current.
PUBLICATIONS = SignedDocumentStore(ReadinessPublicationRow)

# -- catalogues ------------------------------------------------------------------------------------


async def catalogue_row(session, catalogue_id: str, version: str) -> CatalogueRow | None:
    return (await session.execute(
        select(CatalogueRow).where(CatalogueRow.catalogue_id == catalogue_id, CatalogueRow.version == version)
    )).scalar_one_or_none()


async def latest_catalogue_row(session, catalogue_id: str | None = None) -> CatalogueRow | None:
    """The most recently loaded catalogue (optionally of one id): the one new answers use by default."""
    query = select(CatalogueRow).order_by(CatalogueRow.loaded_at.desc(), CatalogueRow.id.desc()).limit(1)
    if catalogue_id:
        query = query.where(CatalogueRow.catalogue_id == catalogue_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_catalogue_rows(session) -> list[CatalogueRow]:
    return list((await session.execute(select(CatalogueRow).order_by(CatalogueRow.loaded_at, CatalogueRow.id))).scalars())


# -- readiness -------------------------------------------------------------------------------------


async def latest_assessment(session, jurisdiction: str) -> ReadinessAssessmentRow | None:
    return (await session.execute(
        select(ReadinessAssessmentRow).where(ReadinessAssessmentRow.jurisdiction == jurisdiction)
        .order_by(ReadinessAssessmentRow.recorded_at.desc(), ReadinessAssessmentRow.id.desc()).limit(1)
    )).scalar_one_or_none()


async def publication_of(session, assessment_pk: int) -> ReadinessPublicationRow | None:
    return await PUBLICATIONS.one(session, assessment_pk=assessment_pk)


async def latest_publication(session, jurisdiction: str) -> ReadinessPublicationRow | None:
    return await PUBLICATIONS.newest(session, jurisdiction=jurisdiction)


async def publications(session) -> list[ReadinessPublicationRow]:
    """The newest publication of every jurisdiction."""
    return await PUBLICATIONS.newest_per(session, "jurisdiction")


# -- cases -----------------------------------------------------------------------------------------

_CASE_FIELDS = (
    "institution", "template_id", "candidate_given_name", "candidate_family_name", "candidate_identifier", "state",
    "assessor", "assessment_id", "assessment_method", "assessed_at", "decision", "decided_at", "reviewer",
    "appeal_outcome", "credential_id", "follows_case_id", "opened_at", "opened_by",
)


@dataclass
class LoadedCase:
    case: Case
    row: CaseRow


def to_case(row: CaseRow) -> Case:
    return Case(id=row.id, units_certified=tuple(row.units_certified or ()), **{f: getattr(row, f) for f in _CASE_FIELDS})


def add_case(session, case: Case) -> CaseRow:
    row = CaseRow(id=case.id, units_certified=list(case.units_certified), updated_at=case.opened_at,
                  **{f: getattr(case, f) for f in _CASE_FIELDS})
    session.add(row)
    return row


async def get_case(session, case_id: str, *, for_update: bool = False) -> LoadedCase | None:
    query = select(CaseRow).where(CaseRow.id == case_id)
    if for_update:
        query = query.with_for_update()  # PostgreSQL row lock; SQLite serialises writers anyway
    row = (await session.execute(query)).scalar_one_or_none()
    return LoadedCase(to_case(row), row) if row else None


def save_case(row: CaseRow, case: Case) -> None:
    for name in _CASE_FIELDS:
        setattr(row, name, getattr(case, name))
    row.units_certified = list(case.units_certified)


async def list_cases(session, *, institution: str | None = None, state: str | None = None) -> list[Case]:
    query = select(CaseRow).order_by(CaseRow.opened_at, CaseRow.id)
    if institution:
        query = query.where(CaseRow.institution == institution)
    if state:
        query = query.where(CaseRow.state == state)
    return [to_case(r) for r in (await session.execute(query)).scalars()]


async def append_transition(session, transition: Transition) -> CaseTransitionRow:
    """History is only ever appended; seq numbers make a concurrent double append fail loudly."""
    last = (await session.execute(
        select(func.max(CaseTransitionRow.seq)).where(CaseTransitionRow.case_id == transition.case_id)
    )).scalar()
    row = CaseTransitionRow(
        case_id=transition.case_id, seq=(last or 0) + 1, from_state=transition.from_state or None,
        to_state=transition.to_state, actor=transition.actor, reason=transition.reason, at=transition.at,
        details=dict(transition.details),
    )
    session.add(row)
    return row


async def history(session, case_id: str) -> list[CaseTransitionRow]:
    return list((await session.execute(
        select(CaseTransitionRow).where(CaseTransitionRow.case_id == case_id).order_by(CaseTransitionRow.seq)
    )).scalars())


async def evidence_of(session, case_id: str) -> list[CaseEvidenceRow]:
    return list((await session.execute(
        select(CaseEvidenceRow).where(CaseEvidenceRow.case_id == case_id).order_by(CaseEvidenceRow.id)
    )).scalars())


async def evidence_item(session, case_id: str, evidence_id: int) -> CaseEvidenceRow | None:
    return (await session.execute(
        select(CaseEvidenceRow).where(CaseEvidenceRow.case_id == case_id, CaseEvidenceRow.id == evidence_id)
    )).scalar_one_or_none()


def transition_json(row: CaseTransitionRow) -> dict[str, Any]:
    return {"seq": row.seq, "from": row.from_state, "to": row.to_state, "actor": row.actor, "reason": row.reason,
            "at": isoformat_z(row.at), **({"details": row.details} if row.details else {})}
