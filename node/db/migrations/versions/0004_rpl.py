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
        sa.Column("follows_case_id", sa.String(64)),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rpl_cases"),
        sa.ForeignKeyConstraint(["follows_case_id"], ["rpl_cases.id"], name="fk_rpl_cases_follows_case_id_rpl_cases"),
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
    """The case history is evidence in an appeal: the database itself refuses to rewrite it.

    UPDATE is always refused. DELETE is refused while the case still exists: a case's history can only
    be erased together with the case, in one transaction (a personal-data erasure, or a test wipe).
    """
    dialect = op.get_bind().dialect.name
    message = "rpl_case_transitions is append-only: history is erased only together with its case"
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER rpl_case_transitions_no_update BEFORE UPDATE ON rpl_case_transitions "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        op.execute(
            "CREATE TRIGGER rpl_case_transitions_no_delete BEFORE DELETE ON rpl_case_transitions "
            "WHEN EXISTS (SELECT 1 FROM rpl_cases WHERE id = OLD.case_id) "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION rpl_case_transitions_no_update() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER rpl_case_transitions_no_update BEFORE UPDATE ON rpl_case_transitions "
            "FOR EACH ROW EXECUTE FUNCTION rpl_case_transitions_no_update()"
        )
        # Deferred to commit, so deleting the history and then the case in one transaction is allowed.
        op.execute(
            "CREATE FUNCTION rpl_case_transitions_no_delete() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF EXISTS (SELECT 1 FROM rpl_cases WHERE id = OLD.case_id) THEN "
            f"RAISE EXCEPTION '{message}'; END IF; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE CONSTRAINT TRIGGER rpl_case_transitions_no_delete AFTER DELETE ON rpl_case_transitions "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rpl_case_transitions_no_delete()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("no_update", "no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS rpl_case_transitions_{name} ON rpl_case_transitions")
            op.execute(f"DROP FUNCTION IF EXISTS rpl_case_transitions_{name}()")
    for table in ("rpl_case_evidence", "rpl_case_transitions", "rpl_cases", "rpl_readiness_publications",
                  "rpl_readiness_assessments", "rpl_checkpoint_catalogues"):
        op.drop_table(table)
