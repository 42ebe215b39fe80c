"""evidence: stored-hash verification on evidence, flags on scan items

Revision ID: 0002_evidence
Revises: 0002_cases
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_evidence"
down_revision: str | None = "0002_cases"  # re-chained when main was merged in
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("stored_md5", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("stored_hash_ok", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("verified_ok", sa.Boolean(), nullable=True))
    with op.batch_alter_table("scan_items") as batch:
        batch.add_column(
            sa.Column("flags", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_items") as batch:
        batch.drop_column("flags")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("verified_ok")
        batch.drop_column("verified_at")
        batch.drop_column("stored_hash_ok")
        batch.drop_column("stored_md5")
