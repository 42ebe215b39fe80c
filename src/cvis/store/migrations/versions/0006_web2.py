"""web2: the review screen's undo steps, kept in the store (undo across restarts and workers)

Revision ID: 0006_web2
Revises: 0004_video_matches
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_web2"
down_revision: str | None = "0004_video_matches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_undo",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("case_number", sa.String(200), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("label", sa.String(500), nullable=False),
        sa.Column("before", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_web_undo_session_case", "web_undo", ["session_id", "case_number"])


def downgrade() -> None:
    op.drop_index("ix_web_undo_session_case", table_name="web_undo")
    op.drop_table("web_undo")
