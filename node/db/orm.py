"""Foundation tables: the identities this node hosts, their keys, API token digests and the audit trail.

Private keys are in the database only sealed (`identity_keys.sealed_key`: envelope encryption under the
node master key, which is kept outside the database; node.key_custody). `key_file` names the file a key
was imported from (nodes before 0009_key_custody). Tokens are stored as SHA-256 digests only, so a database dump cannot be replayed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, UTCDateTime

IDENTITY_KINDS = ("node", "ministry", "institution")
TOKEN_ROLES = ("ministry", "issuer", "operator")


class Identity(Base):
    """A did:web hosted by this node: the node itself, its ministry, or an issuing institution."""

    __tablename__ = "identities"
    __table_args__ = (
        CheckConstraint("kind IN ('node', 'ministry', 'institution')", name="kind"),
        UniqueConstraint("path"),
    )

    did: Mapped[str] = mapped_column(String(512), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    path: Mapped[str] = mapped_column(String(300))  # URL path under the node ("" for the node, "ministry", ...)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdentityKey(Base):
    """One key of an identity. Rotation retires a key but keeps it, so old signatures still verify."""

    __tablename__ = "identity_keys"
    __table_args__ = (UniqueConstraint("did", "seq"),)

    key_id: Mapped[str] = mapped_column(String(600), primary_key=True)  # verification method id, did#key-N
    did: Mapped[str] = mapped_column(ForeignKey("identities.did", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... in order of creation; the highest unretired is current
    public_multibase: Mapped[str] = mapped_column(String(128))
    # The file (in settings.keys_dir) a key of an older node was imported from; None for keys made since.
    key_file: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The sealed private key (node.key_custody); None only for a legacy key whose file was not imported yet.
    sealed_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiToken(Base):
    """An admin API token, known only by its SHA-256 digest. It belongs to a named person (`subject`) with
    a role and a scope: a ministry token acts for one jurisdiction, an issuer token for one institution,
    an operator token for the whole node. A token without its scope (a legacy token whose actor named
    no institution) acts for nothing it would need the scope for."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("role IN ('ministry', 'issuer', 'operator')", name="role"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex sha256 of the token
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))  # the person who holds the token
    jurisdiction: Mapped[str | None] = mapped_column(String(2), nullable=True)  # ministry tokens
    institution: Mapped[str | None] = mapped_column(String(100), nullable=True)  # issuer tokens: the slug
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEvent(Base):
    """One write: who (the token's subject, role and scope), what (an action and the id of what it
    changed), when. Written in the same transaction as the write itself, so a write without its audit
    row cannot commit. Never holds secrets or workers' personal data: object ids only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"), Index("ix_audit_events_subject", "subject"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    subject: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))  # ministry | issuer | operator | system
    scope: Mapped[str | None] = mapped_column(String(120), nullable=True)  # "jurisdiction:GT", "institution:intecap"
    action: Mapped[str] = mapped_column(String(64))  # e.g. framework.publish, credential.revoke
    object_id: Mapped[str] = mapped_column(String(600))
