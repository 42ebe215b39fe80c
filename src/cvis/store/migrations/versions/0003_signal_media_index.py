"""known_signals by media: reading a set's records back (export, history, diff) without scans

Revision ID: 0003_signal_media_index
Revises: 0002_service
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_signal_media_index"
down_revision: str | None = "0002_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_known_signals_media", "known_signals", ["media_pk"])


def downgrade() -> None:
    op.drop_index("ix_known_signals_media", table_name="known_signals")
