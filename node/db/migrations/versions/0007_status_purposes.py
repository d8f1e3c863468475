"""Issuance: status purposes per institution. New credentials carry a 1-bit "revocation" entry (one
credentialStatus object, as the OB 3.0 schema requires and as every 1-bit verifier reads it); an
institution that turns `suspension` on also gets a 1-bit "suspension" entry in a list of its own.

The credential columns already exist (`revocation_list`/`_index`, `suspension_list`/`_index`, from before
0005); credentials issued with a 2-bit "message" entry keep `status_list`/`status_index`. Nothing signed is
rewritten.

Revision ID: 0007_status_purposes
Revises: 0005_status_message
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_status_purposes"
down_revision = "0005_status_message"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (with its default) on both databases: batch mode would rebuild the table on SQLite,
    # which the foreign keys pointing at institutions forbid.
    op.add_column("issuance_institutions",
                  sa.Column("suspension", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("issuance_institutions") as batch:
        batch.drop_column("suspension")
