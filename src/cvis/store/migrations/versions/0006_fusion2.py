"""fusion2: who revoked a share (joint investigations of cases and subjects); the monthly
protocol's summaries, for the analyst pages

Revision ID: 0006_fusion2
Revises: 0006_web2
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_fusion2"
down_revision: str | None = "0006_portal2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fusion_shares") as batch:
        batch.add_column(sa.Column("revoked_by", sa.String(200), nullable=False,
                                   server_default=""))
    op.create_table(
        "fusion_months",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("run_by", sa.String(200), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agency", "period"),
    )


def downgrade() -> None:
    op.drop_table("fusion_months")
    with op.batch_alter_table("fusion_shares") as batch:
        batch.drop_column("revoked_by")
