"""Issuance: one 2-bit "message" status entry per credential (revoked/suspended), so credentialStatus
is a single object as the OB 3.0 schema requires.

New credentials point into a "message" status list (`status_list`, `status_index`). The per-purpose
columns stay, now nullable, for credentials issued before: their revocation and suspension lists keep
working. Nothing is rewritten: signed credentials and lists are never re-serialised.

Revision ID: 0005_status_message
Revises: 0003_issuance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_status_message"
down_revision = "0003_issuance"
branch_labels = None
depends_on = None

LEGACY = (("revocation_list", sa.String(36)), ("revocation_index", sa.Integer()),
          ("suspension_list", sa.String(36)), ("suspension_index", sa.Integer()))


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a column's nullability in place (it rebuilds the table);
    # on PostgreSQL these are plain ALTER TABLE statements.
    with op.batch_alter_table("issuance_credentials") as batch:
        batch.add_column(sa.Column("status_list", sa.String(36)))
        batch.add_column(sa.Column("status_index", sa.Integer()))
        for name, type_ in LEGACY:
            batch.alter_column(name, existing_type=type_, nullable=True)
        batch.create_foreign_key("fk_issuance_credentials_status_list_issuance_status_lists",
                                 "issuance_status_lists", ["status_list"], ["id"])
        batch.create_unique_constraint("uq_issuance_credentials_status_list", ["status_list", "status_index"])


def downgrade() -> None:
    # Only possible while every credential still has per-purpose entries (none issued since 0005).
    with op.batch_alter_table("issuance_credentials") as batch:
        batch.drop_constraint("uq_issuance_credentials_status_list", type_="unique")
        batch.drop_constraint("fk_issuance_credentials_status_list_issuance_status_lists", type_="foreignkey")
        for name, type_ in LEGACY:
            batch.alter_column(name, existing_type=type_, nullable=False)
        batch.drop_column("status_index")
        batch.drop_column("status_list")
