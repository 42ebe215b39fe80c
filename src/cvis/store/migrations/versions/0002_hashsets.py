"""hash sets: visibility, version change log, series, feedback, suppressions, sync checkpoints

Revision ID: 0002_hashsets
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_hashsets"
down_revision: str | None = "0002_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _set_fk() -> sa.Column:
    return sa.Column(
        "set_id", sa.Integer(), sa.ForeignKey("hash_sets.id", ondelete="CASCADE"), nullable=False
    )


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "set_access",
        sa.Column("id", sa.Integer(), primary_key=True),
        _set_fk(),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("can_match", sa.Boolean(), nullable=False),
        sa.Column("can_see_metadata", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("set_id", "agency"),
    )
    op.create_table(
        "set_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("set_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("media_id", sa.String(200), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("prior", sa.JSON(), nullable=True),
    )
    op.create_index("ix_set_changes_version_media", "set_changes", ["version_id", "media_id"])
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("victim_identified", sa.Boolean(), nullable=True),
        sa.Column("identifying_agency", sa.String(200), nullable=False),
        sa.Column("contact_agency", sa.String(200), nullable=False),
        sa.Column("contact_unit", sa.String(200), nullable=False),
        sa.Column("contact_phone", sa.String(60), nullable=False),
        sa.Column("contact_email", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        _when("updated_at"),
    )
    op.create_table(
        "match_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        _set_fk(),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("media_id", sa.String(200), nullable=False),
        sa.Column("signal_type", sa.String(30), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("examiner", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _when("created_at"),
    )
    op.create_index(
        "ix_match_feedback_set_value", "match_feedback", ["set_id", "signal_type", "value"]
    )
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _set_fk(),
        sa.Column("signal_type", sa.String(30), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _when("created_at"),
        sa.UniqueConstraint("set_id", "signal_type", "value"),
    )
    op.create_table(
        "sync_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(2000), nullable=False),
        _set_fk(),
        sa.Column("last_version", sa.Integer(), nullable=False),
        _when("updated_at"),
        sa.UniqueConstraint("set_id", "source"),
    )


def downgrade() -> None:
    for table in (
        "sync_checkpoints", "suppressions", "match_feedback", "series", "set_changes", "set_access"
    ):
        op.drop_table(table)
