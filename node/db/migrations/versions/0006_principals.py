"""Principals: a token belongs to a named person (subject) with a role and a scope; the audit trail.

Existing tokens keep working, mapped from their old free-text `actor`:
- subject = actor (the name the token was created with);
- an issuer token whose actor is the slug of an institution hosted here acts for that institution;
  any other issuer token gets no institution and can no longer act for one (fail closed: create a new
  token with `puente token create --role issuer --subject NAME --institution SLUG`);
- a ministry token acts for the jurisdiction of this node's own ministry (path `ministry`), which is
  what it could sign for before; without such a ministry it acts for none;
- operator tokens have no scope (the whole node).

Revision ID: 0006_principals
Revises: 0005_status_message
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_principals"
down_revision = "0005_status_message"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("subject", sa.String(300), nullable=True))
        batch.add_column(sa.Column("jurisdiction", sa.String(2), nullable=True))
        batch.add_column(sa.Column("institution", sa.String(100), nullable=True))
    op.execute("UPDATE api_tokens SET subject = actor")
    op.execute("UPDATE api_tokens SET institution = actor WHERE role = 'issuer' AND EXISTS "
               "(SELECT 1 FROM identities WHERE identities.kind = 'institution' "
               "AND identities.path = 'institutions/' || api_tokens.actor)")
    op.execute("UPDATE api_tokens SET jurisdiction = (SELECT identities.jurisdiction FROM identities "
               "WHERE identities.kind = 'ministry' AND identities.path = 'ministry') WHERE role = 'ministry'")
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("subject", existing_type=sa.String(300), nullable=False)
        batch.drop_column("actor")

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(120), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(600), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])
    _append_only()


APPEND_ONLY = "audit_events is append-only: the audit trail is never rewritten"


def _append_only() -> None:
    """The database itself refuses to change or delete an audit row (the node only ever inserts)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_table("audit_events")
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("actor", sa.String(300), nullable=True))
    # An issuer token acted for the institution its actor named: give it back that name.
    op.execute("UPDATE api_tokens SET actor = COALESCE(institution, subject)")
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("actor", existing_type=sa.String(300), nullable=False)
        batch.drop_column("institution")
        batch.drop_column("jurisdiction")
        batch.drop_column("subject")
