"""Foundation: hosted identities, their keys (public part and key-file name), API token digests.

Revision ID: 0001_foundation
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from node.db.base import UTCDateTime

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("did", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("did", name="pk_identities"),
        sa.UniqueConstraint("path", name="uq_identities_path"),
        sa.CheckConstraint("kind IN ('node', 'ministry', 'institution')", name="ck_identities_kind"),
    )
    op.create_table(
        "identity_keys",
        sa.Column("key_id", sa.String(600), nullable=False),
        sa.Column("did", sa.String(512), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("public_multibase", sa.String(128), nullable=False),
        sa.Column("key_file", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_identity_keys"),
        sa.ForeignKeyConstraint(["did"], ["identities.did"], name="fk_identity_keys_did_identities", ondelete="CASCADE"),
        sa.UniqueConstraint("did", "seq", name="uq_identity_keys_did"),
    )
    op.create_index("ix_identity_keys_did", "identity_keys", ["did"])
    op.create_table(
        "api_tokens",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_api_tokens"),
        sa.CheckConstraint("role IN ('ministry', 'issuer', 'operator')", name="ck_api_tokens_role"),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("ix_identity_keys_did", table_name="identity_keys")
    op.drop_table("identity_keys")
    op.drop_table("identities")
