"""offices and office_areas: the area-of-responsibility table

Revision ID: 0004_offices
Revises: 0003_signal_media_index
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_offices"
down_revision: str | None = "0003_signal_media_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("office_id", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, server_default=""),
        sa.Column("national", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "office_areas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("office_pk", sa.Integer,
                  sa.ForeignKey("offices.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("county", sa.String(200), nullable=False, server_default=""),
        sa.UniqueConstraint("state", "county"),
    )
    op.create_index("ix_office_areas_office", "office_areas", ["office_pk"])


def downgrade() -> None:
    op.drop_table("office_areas")
    op.drop_table("offices")
