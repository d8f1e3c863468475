"""Key custody: private keys sealed in the database (node.key_custody) instead of only in key files.

Adds `identity_keys.sealed_key` and lets `key_file` be empty (keys created from now on have no file).
The migration cannot see the node master key, so it moves no key material: the node imports the key
files it finds in `<data_dir>/keys` into `sealed_key` once, at start and on `puente db upgrade`
(KeyStore.import_key_files), and from then on reads keys from the database only.

Downgrade refuses while a key exists only in the database (it would be lost).

Revision ID: 0009_key_custody
Revises: 0006_principals
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_key_custody"
down_revision = "0006_principals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("identity_keys", sa.Column("sealed_key", sa.Text(), nullable=True))
    with op.batch_alter_table("identity_keys") as batch:
        batch.alter_column("key_file", existing_type=sa.String(300), nullable=True)


def downgrade() -> None:
    only_sealed = op.get_bind().scalar(sa.text("SELECT COUNT(*) FROM identity_keys WHERE key_file IS NULL"))
    if only_sealed:
        raise RuntimeError(f"{only_sealed} key(s) exist only sealed in the database; downgrading would lose them "
                           "(take a puente backup first)")
    with op.batch_alter_table("identity_keys") as batch:
        batch.alter_column("key_file", existing_type=sa.String(300), nullable=False)
        batch.drop_column("sealed_key")
