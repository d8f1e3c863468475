"""RPL: checkpoint catalogues, readiness assessments and publications, RPL cases with append-only history.

Revision ID: 0004_rpl
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rpl"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
APPEND_ONLY = ("rpl_case_transitions",)


def upgrade() -> None:
    op.create_table(
        "rpl_checkpoint_catalogues",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("catalogue_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("loaded_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rpl_checkpoint_catalogues"),
        sa.UniqueConstraint("catalogue_id", "version", name="uq_rpl_checkpoint_catalogues_id_version"),
    )
    op.create_table(
        "rpl_readiness_assessments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("catalogue_pk", sa.Integer, nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rpl_readiness_assessments"),
        sa.ForeignKeyConstraint(["catalogue_pk"], ["rpl_checkpoint_catalogues.id"],
                                name="fk_rpl_readiness_assessments_catalogue"),
    )
    op.create_index("ix_rpl_readiness_assessments_jurisdiction", "rpl_readiness_assessments", ["jurisdiction"])
    op.create_table(
        "rpl_readiness_publications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assessment_pk", sa.Integer, nullable=False),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=False),
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("published_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rpl_readiness_publications"),
        sa.ForeignKeyConstraint(["assessment_pk"], ["rpl_readiness_assessments.id"],
                                name="fk_rpl_readiness_publications_assessment"),
        sa.UniqueConstraint("assessment_pk", name="uq_rpl_readiness_publications_assessment_pk"),
        sa.UniqueConstraint("credential_id", name="uq_rpl_readiness_publications_credential_id"),
    )
    op.create_index("ix_rpl_readiness_publications_jurisdiction", "rpl_readiness_publications", ["jurisdiction"])
    op.create_table(
        "rpl_cases",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("institution", sa.String(63), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("candidate_given_name", sa.String(200), nullable=False),
        sa.Column("candidate_family_name", sa.String(200), nullable=False),
        sa.Column("candidate_identifier", sa.String(320), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("assessor", sa.String(200)),
        sa.Column("assessment_id", sa.String(200)),
        sa.Column("assessment_method", sa.String(500)),
        sa.Column("assessed_at", UTC),
        sa.Column("decision", sa.String(32)),
        sa.Column("units_certified", sa.JSON, nullable=False),
        sa.Column("decided_at", UTC),
        sa.Column("reviewer", sa.String(200)),
        sa.Column("appeal_outcome", sa.String(32)),
        sa.Column("credential_id", sa.String(300)),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rpl_cases"),
    )
    op.create_index("ix_rpl_cases_institution", "rpl_cases", ["institution"])
    op.create_table(
        "rpl_case_transitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rpl_case_transitions"),
        sa.ForeignKeyConstraint(["case_id"], ["rpl_cases.id"], name="fk_rpl_case_transitions_case_id_rpl_cases"),
        sa.UniqueConstraint("case_id", "seq", name="uq_rpl_case_transitions_case_seq"),
    )
    op.create_index("ix_rpl_case_transitions_case_id", "rpl_case_transitions", ["case_id"])
    op.create_table(
        "rpl_case_evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("media_type", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2000)),
        sa.Column("content", sa.LargeBinary),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rpl_case_evidence"),
        sa.ForeignKeyConstraint(["case_id"], ["rpl_cases.id"], name="fk_rpl_case_evidence_case_id_rpl_cases"),
    )
    op.create_index("ix_rpl_case_evidence_case_id", "rpl_case_evidence", ["case_id"])
    _append_only_triggers()


def _append_only_triggers() -> None:
    """The case history is evidence in an appeal: the database itself refuses to rewrite it."""
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    for table in ("rpl_case_evidence", "rpl_case_transitions", "rpl_cases", "rpl_readiness_publications",
                  "rpl_readiness_assessments", "rpl_checkpoint_catalogues"):
        op.drop_table(table)
