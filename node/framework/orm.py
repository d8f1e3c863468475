"""Tables of the framework capability (schema changes go through migration 0002_framework).

A framework version and a mapping version are stored whole, as JSON documents: they are read and
written as units, and a published mapping version never changes (a change is a new version).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, UTCDateTime


class FrameworkVersionRow(Base):
    """One version of a framework: its levels and qualifications (`document`, the model's JSON)."""

    __tablename__ = "framework_versions"
    __table_args__ = (UniqueConstraint("framework_id", "version", name="uq_framework_versions_id_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    framework_id: Mapped[str] = mapped_column(String(63), index=True)
    version: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    jurisdiction: Mapped[str | None] = mapped_column(String(2))
    document: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MappingVersionRow(Base):
    """A version of the mapping of a framework onto a target framework; `draft` until published."""

    __tablename__ = "framework_mappings"
    __table_args__ = (UniqueConstraint("framework_id", "target_id", "version", name="uq_framework_mappings_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    framework_id: Mapped[str] = mapped_column(String(63), index=True)
    framework_version: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(63))
    target_version: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # draft | published
    rows: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: two people changing the same draft at once cannot both win (one gets a Conflict).
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class FrameworkPublicationRow(Base):
    """The signed framework+mapping publication: exact bytes and their SHA-256, never re-serialised."""

    __tablename__ = "framework_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mapping_pk: Mapped[int] = mapped_column(ForeignKey("framework_mappings.id", name="fk_framework_publications_mapping"), unique=True)
    framework_id: Mapped[str] = mapped_column(String(63), index=True)
    credential_id: Mapped[str] = mapped_column(String(300), unique=True)
    issuer: Mapped[str] = mapped_column(String(300))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
