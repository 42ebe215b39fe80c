"""portal: poster drafts in the analyst application; double opt-in for email alerts

Revision ID: 0006_portal2
Revises: 0004_video_matches
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_portal2"
down_revision: str | None = "0006_web2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "poster_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("draft_id", sa.String(40), nullable=False, unique=True),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("descriptors", sa.JSON, nullable=False),
        sa.Column("charges", sa.JSON, nullable=False),
        sa.Column("caution", sa.Text, nullable=False),
        sa.Column("reward", sa.String(300), nullable=False),
        sa.Column("field_office", sa.String(200), nullable=False),
        sa.Column("areas", sa.JSON, nullable=False),
        sa.Column("captions", sa.JSON, nullable=False),
        sa.Column("portrait_seed", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("poster_id", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    with op.batch_alter_table("public_subscriptions") as batch:
        batch.add_column(sa.Column("confirm_token", sa.String(64), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("confirmed_at", WHEN, nullable=True))
    # subscriptions made before double opt-in stay as they were: confirmed
    op.execute("UPDATE public_subscriptions SET confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("public_subscriptions") as batch:
        batch.drop_column("confirmed_at")
        batch.drop_column("confirm_token")
    op.drop_table("poster_drafts")
