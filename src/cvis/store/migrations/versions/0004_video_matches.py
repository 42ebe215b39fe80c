"""matches.video: a video match's figures (query/compared percentages, time ranges)

Revision ID: 0004_video_matches
Revises: 0004_portal
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_video_matches"
down_revision: str | None = "0004_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("video", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("video")
