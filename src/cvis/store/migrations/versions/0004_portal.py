"""public portal: published posters, their events, alert subscriptions, registry snapshots

Revision ID: 0004_portal
Revises: 0004_tips
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_portal"
down_revision: str | None = "0004_tips"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "public_posters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("poster_id", sa.String(40), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("descriptors", sa.JSON, nullable=False),
        sa.Column("charges", sa.JSON, nullable=False),
        sa.Column("caution", sa.Text, nullable=False),
        sa.Column("reward", sa.String(300), nullable=False),
        sa.Column("field_office", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("areas", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_note", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("published_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "public_poster_photos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("poster_pk", sa.Integer,
                  sa.ForeignKey("public_posters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("caption", sa.String(500), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
    )
    op.create_table(
        "public_poster_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("poster_id", sa.String(40), nullable=False, index=True),
        sa.Column("msg_type", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("headline", sa.String(400), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_table(
        "public_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("push", sa.JSON, nullable=False),
        sa.Column("zip", sa.String(5), nullable=False),
        sa.Column("radius_miles", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("poster_id", sa.String(40), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "public_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer,
                  sa.ForeignKey("public_subscriptions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("public_poster_events.id"),
                  nullable=False),
        sa.Column("outcome", sa.String(200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.UniqueConstraint("subscription_id", "event_id"),
    )
    op.create_table(
        "public_keys",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("private_pem", sa.Text, nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "public_registry_snapshots",
        sa.Column("jurisdiction_id", sa.String(20), primary_key=True),
        sa.Column("fetched_at", WHEN, nullable=False),
        sa.Column("records", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("public_registry_snapshots", "public_keys", "public_deliveries",
                  "public_subscriptions", "public_poster_events", "public_poster_photos",
                  "public_posters"):
        op.drop_table(table)
