"""Tables of the RPL capability (schema changes go through migration 0004_rpl)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, UTCDateTime


class CatalogueRow(Base):
    """One loaded version of the checkpoint catalogue; a version never changes once loaded."""

    __tablename__ = "rpl_checkpoint_catalogues"
    __table_args__ = (UniqueConstraint("catalogue_id", "version", name="uq_rpl_checkpoint_catalogues_id_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    catalogue_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    document: Mapped[bytes] = mapped_column(LargeBinary)  # canonical JSON bytes
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReadinessAssessmentRow(Base):
    """Answers a ministry recorded for its jurisdiction (history: a new recording is a new row)."""

    __tablename__ = "rpl_readiness_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    jurisdiction: Mapped[str] = mapped_column(String(2), index=True)
    catalogue_pk: Mapped[int] = mapped_column(ForeignKey("rpl_checkpoint_catalogues.id", name="fk_rpl_readiness_assessments_catalogue"))
    answers: Mapped[list] = mapped_column(JSON)
    result: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class ReadinessPublicationRow(Base):
    """The signed readiness assessment as published: exact bytes and their SHA-256, never re-serialised."""

    __tablename__ = "rpl_readiness_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_pk: Mapped[int] = mapped_column(ForeignKey("rpl_readiness_assessments.id", name="fk_rpl_readiness_publications_assessment"), unique=True)
    jurisdiction: Mapped[str] = mapped_column(String(2), index=True)
    credential_id: Mapped[str] = mapped_column(String(200), unique=True)
    issuer: Mapped[str] = mapped_column(String(300))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseRow(Base):
    __tablename__ = "rpl_cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    institution: Mapped[str] = mapped_column(String(63), index=True)
    template_id: Mapped[str] = mapped_column(String(100))
    candidate_given_name: Mapped[str] = mapped_column(String(200))
    candidate_family_name: Mapped[str] = mapped_column(String(200))
    candidate_identifier: Mapped[str] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(32))
    assessor: Mapped[str | None] = mapped_column(String(200))
    assessment_id: Mapped[str | None] = mapped_column(String(200))
    assessment_method: Mapped[str | None] = mapped_column(String(500))
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(32))
    units_certified: Mapped[list] = mapped_column(JSON, default=list)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer: Mapped[str | None] = mapped_column(String(200))
    appeal_outcome: Mapped[str | None] = mapped_column(String(32))
    credential_id: Mapped[str | None] = mapped_column(String(300))
    follows_case_id: Mapped[str | None] = mapped_column(ForeignKey("rpl_cases.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Optimistic locking: two people advancing the same case at once cannot both win.
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class CaseTransitionRow(Base):
    """Append-only history (who, when, why); the migration adds triggers refusing UPDATE and DELETE."""

    __tablename__ = "rpl_case_transitions"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_rpl_case_transitions_case_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("rpl_cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(32))  # None for the opening of the case
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class CaseEvidenceRow(Base):
    __tablename__ = "rpl_case_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("rpl_cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(2000))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
