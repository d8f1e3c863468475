"""Framework: framework versions, mapping versions, signed publications.

Revision ID: 0002_framework
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_framework"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "framework_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("framework_id", sa.String(63), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("jurisdiction", sa.String(2)),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("loaded_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_framework_versions"),
        sa.UniqueConstraint("framework_id", "version", name="uq_framework_versions_id_version"),
    )
    op.create_index("ix_framework_versions_framework_id", "framework_versions", ["framework_id"])
    op.create_table(
        "framework_mappings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("framework_id", sa.String(63), nullable=False),
        sa.Column("framework_version", sa.String(50), nullable=False),
        sa.Column("target_id", sa.String(63), nullable=False),
        sa.Column("target_version", sa.String(50), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("published_at", UTC),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_framework_mappings"),
        sa.UniqueConstraint("framework_id", "target_id", "version", name="uq_framework_mappings_version"),
    )
    op.create_index("ix_framework_mappings_framework_id", "framework_mappings", ["framework_id"])
    op.create_table(
        "framework_publications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mapping_pk", sa.Integer, nullable=False),
        sa.Column("framework_id", sa.String(63), nullable=False),
        sa.Column("credential_id", sa.String(300), nullable=False),
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("published_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_framework_publications"),
        sa.ForeignKeyConstraint(["mapping_pk"], ["framework_mappings.id"], name="fk_framework_publications_mapping"),
        sa.UniqueConstraint("mapping_pk", name="uq_framework_publications_mapping_pk"),
        sa.UniqueConstraint("credential_id", name="uq_framework_publications_credential_id"),
    )
    op.create_index("ix_framework_publications_framework_id", "framework_publications", ["framework_id"])


def downgrade() -> None:
    op.drop_table("framework_publications")
    op.drop_table("framework_mappings")
    op.drop_table("framework_versions")
