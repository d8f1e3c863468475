"""Issuance: at most one open status list per institution and purpose.

Concurrent issuance used to open one list per request in flight (each saw no open list and created
one), leaving lists with a single credential: no herd privacy for its holder. A partial unique index on
(institution, purpose) WHERE next_slot < size makes the database refuse a second open list; the node
opens lists with INSERT ... ON CONFLICT DO NOTHING, so of several processes racing at a rollover exactly
one list is opened and every one of them then allocates from it.

Databases that already hold several open lists of one purpose keep, open, the one with the most
credentials; the others are closed (next_slot = size). Their unused slots read 0 (valid) and are held by
nobody; nothing signed is rewritten.

Revision ID: 0008_list_allocation
Revises: 0007_status_purposes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_list_allocation"
down_revision = "0007_status_purposes"
branch_labels = None
depends_on = None

OPEN = "next_slot < size"


def upgrade() -> None:
    lists = sa.table("issuance_status_lists", sa.column("id", sa.String), sa.column("institution", sa.String),
                     sa.column("purpose", sa.String), sa.column("size", sa.Integer), sa.column("next_slot", sa.Integer))
    connection = op.get_bind()
    open_rows = connection.execute(
        sa.select(lists.c.id, lists.c.institution, lists.c.purpose, lists.c.size)
        .where(lists.c.next_slot < lists.c.size)
        .order_by(lists.c.institution, lists.c.purpose, lists.c.next_slot.desc(), lists.c.id)).all()
    kept: set[tuple[str, str]] = set()
    for list_id, institution, purpose, size in open_rows:
        if (institution, purpose) in kept:  # not the fullest open list of its purpose: close it
            connection.execute(sa.update(lists).where(lists.c.id == list_id).values(next_slot=size))
        kept.add((institution, purpose))
    op.create_index("uq_issuance_status_lists_open", "issuance_status_lists", ["institution", "purpose"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("uq_issuance_status_lists_open", table_name="issuance_status_lists")
