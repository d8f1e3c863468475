"""Issuance: institutions, achievement templates, status lists, credentials, status events, batches.

Revision ID: 0003_issuance
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from node.db.base import UTCDateTime

revision = "0003_issuance"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuance_institutions",
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("did", sa.String(300), nullable=False),
        sa.Column("logo_url", sa.String(1000)),
        sa.Column("url", sa.String(1000)),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("accredited_from", UTCDateTime()),
        sa.Column("accredited_until", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_issuance_institutions"),
        sa.UniqueConstraint("did", name="uq_issuance_institutions_did"),
    )
    op.create_table(
        "issuance_templates",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("institution", sa.String(64), sa.ForeignKey("issuance_institutions.slug", name="fk_issuance_templates_institution_issuance_institutions"), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issuance_templates"),
    )
    op.create_index("ix_issuance_templates_institution", "issuance_templates", ["institution"])
    op.create_table(
        "issuance_status_lists",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("institution", sa.String(64), sa.ForeignKey("issuance_institutions.slug", name="fk_issuance_status_lists_institution_issuance_institutions"), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("next_slot", sa.Integer, nullable=False),
        sa.Column("permutation_key", sa.String(64), nullable=False),
        sa.Column("bits", sa.LargeBinary, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issuance_status_lists"),
    )
    op.create_index("ix_issuance_status_lists_institution_purpose", "issuance_status_lists", ["institution", "purpose"])
    op.create_table(
        "issuance_credentials",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("uri", sa.String(500), nullable=False),
        sa.Column("institution", sa.String(64), sa.ForeignKey("issuance_institutions.slug", name="fk_issuance_credentials_institution_issuance_institutions"), nullable=False),
        sa.Column("template_id", sa.String(64), sa.ForeignKey("issuance_templates.id", name="fk_issuance_credentials_template_id_issuance_templates"), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(36)),
        sa.Column("line", sa.Integer),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime()),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("revocation_list", sa.String(36), sa.ForeignKey("issuance_status_lists.id", name="fk_issuance_credentials_revocation_list_issuance_status_lists"), nullable=False),
        sa.Column("revocation_index", sa.Integer, nullable=False),
        sa.Column("suspension_list", sa.String(36), sa.ForeignKey("issuance_status_lists.id", name="fk_issuance_credentials_suspension_list_issuance_status_lists"), nullable=False),
        sa.Column("suspension_index", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issuance_credentials"),
        sa.UniqueConstraint("uri", name="uq_issuance_credentials_uri"),
        sa.UniqueConstraint("idempotency_key", name="uq_issuance_credentials_idempotency_key"),
        sa.UniqueConstraint("revocation_list", "revocation_index", name="uq_issuance_credentials_revocation_list"),
        sa.UniqueConstraint("suspension_list", "suspension_index", name="uq_issuance_credentials_suspension_list"),
    )
    op.create_index("ix_issuance_credentials_institution", "issuance_credentials", ["institution"])
    op.create_index("ix_issuance_credentials_template_id", "issuance_credentials", ["template_id"])
    op.create_index("ix_issuance_credentials_batch_id", "issuance_credentials", ["batch_id"])
    op.create_table(
        "issuance_status_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("credential_id", sa.String(36), sa.ForeignKey("issuance_credentials.id", name="fk_issuance_status_events_credential_id_issuance_credentials"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issuance_status_events"),
    )
    op.create_index("ix_issuance_status_events_credential_id", "issuance_status_events", ["credential_id"])
    op.create_table(
        "issuance_batches",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("template_id", sa.String(64), sa.ForeignKey("issuance_templates.id", name="fk_issuance_batches_template_id_issuance_templates"), nullable=False),
        sa.Column("source_digest", sa.String(64), nullable=False),
        sa.Column("suite", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False),
        sa.Column("issued", sa.Integer, nullable=False),
        sa.Column("failed", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issuance_batches"),
        sa.UniqueConstraint("template_id", "source_digest", name="uq_issuance_batches_template_id"),
    )


def downgrade() -> None:
    for table in ("issuance_batches", "issuance_status_events", "issuance_credentials", "issuance_status_lists",
                  "issuance_templates", "issuance_institutions"):
        op.drop_table(table)
