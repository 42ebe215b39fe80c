"""web: each examiner's wellbeing settings for the review screens

Revision ID: 0005_web
Revises: 0004_casework
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_web"
down_revision: str | None = "0004_casework"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_wellbeing",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.String(200), nullable=False, unique=True),
        sa.Column("blur", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("greyscale", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("break_minutes", sa.Integer, nullable=False, server_default="20"),
        sa.Column("daily_cap", sa.Integer, nullable=False, server_default="300"),
        sa.Column("last_break_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("web_wellbeing")
