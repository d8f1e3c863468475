"""Issuance tables. Signed documents are stored as the exact bytes that were signed, with their digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, UTCDateTime


class InstitutionRow(Base):
    __tablename__ = "issuance_institutions"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    did: Mapped[str] = mapped_column(String(300), unique=True)
    logo_url: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(1000))
    scope: Mapped[dict] = mapped_column(JSON)
    accredited_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accredited_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # New credentials get a 1-bit "suspension" entry besides the revocation one (migration 0007).
    suspension: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TemplateRow(Base):
    __tablename__ = "issuance_templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    institution: Mapped[str] = mapped_column(ForeignKey("issuance_institutions.slug"), index=True)
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusListRow(Base):
    """One Bitstring Status List of one institution for one purpose; `size` counts entries and `next_slot`
    allocations (slots reserved; a list is open while next_slot < size). New lists have purpose "revocation" or "suspension" (1 bit per entry, what every verifier
    reads); lists of purpose "message" (2 bits: revoked, suspended) serve credentials issued under 0005."""

    __tablename__ = "issuance_status_lists"
    __table_args__ = (
        Index("ix_issuance_status_lists_institution_purpose", "institution", "purpose"),
        # At most one open list (free slots left) per institution and purpose (migration 0008): the
        # database refuses a second one, so concurrent requests never each open a list of their own.
        Index("uq_issuance_status_lists_open", "institution", "purpose", unique=True,
              sqlite_where=text("next_slot < size"), postgresql_where=text("next_slot < size")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    institution: Mapped[str] = mapped_column(ForeignKey("issuance_institutions.slug"))
    purpose: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    next_slot: Mapped[int] = mapped_column(Integer, default=0)
    permutation_key: Mapped[str] = mapped_column(String(64))  # hex; keeps index allocation unpredictable
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    document: Mapped[str] = mapped_column(Text)  # the signed list credential, exact bytes
    digest: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CredentialRow(Base):
    __tablename__ = "issuance_credentials"
    __table_args__ = (
        UniqueConstraint("revocation_list", "revocation_index"),
        UniqueConstraint("suspension_list", "suspension_index"),
        UniqueConstraint("status_list", "status_index"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the uuid at the end of the credential id
    uri: Mapped[str] = mapped_column(String(500), unique=True)
    institution: Mapped[str] = mapped_column(ForeignKey("issuance_institutions.slug"), index=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("issuance_templates.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    line: Mapped[int | None] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="active")
    # Credentials issued between 0005 and 0007 carry one 2-bit "message" entry: an index in a "message" list.
    status_list: Mapped[str | None] = mapped_column(ForeignKey("issuance_status_lists.id"))
    status_index: Mapped[int | None] = mapped_column(Integer)
    # Every other credential has 1-bit entries: a revocation entry always, a suspension entry when its
    # institution had suspension on (0007) or when it was issued before 0005 (both, then).
    revocation_list: Mapped[str | None] = mapped_column(ForeignKey("issuance_status_lists.id"))
    revocation_index: Mapped[int | None] = mapped_column(Integer)
    suspension_list: Mapped[str | None] = mapped_column(ForeignKey("issuance_status_lists.id"))
    suspension_index: Mapped[int | None] = mapped_column(Integer)


class StatusEventRow(Base):
    """Every revoke/suspend/unsuspend, with its reason: the audit trail behind a status bit."""

    __tablename__ = "issuance_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("issuance_credentials.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class BatchRow(Base):
    """A batch job: one file for one template. Re-running the same file resumes the same job."""

    __tablename__ = "issuance_batches"
    __table_args__ = (UniqueConstraint("template_id", "source_digest"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("issuance_templates.id"))
    source_digest: Mapped[str] = mapped_column(String(64))
    suite: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))  # running, completed, interrupted
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
