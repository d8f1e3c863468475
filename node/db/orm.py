"""Foundation tables: the identities this node hosts, their keys, and API token digests.

Private keys never enter the database: `identity_keys.key_file` names a file in `keys_dir`
(mode 0600). Tokens are stored as SHA-256 digests only, so a database dump cannot be replayed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
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
    key_file: Mapped[str] = mapped_column(String(300))  # relative to settings.keys_dir
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiToken(Base):
    """An admin API token, known only by its SHA-256 digest."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("role IN ('ministry', 'issuer', 'operator')", name="role"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex sha256 of the token
    role: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
