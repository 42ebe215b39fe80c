"""trust: single-use TOTP steps, the claimed name beside the audit actor, API scan jobs,
per-agency suppressions

Revision ID: 0004_trust
Revises: 0004_offices
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_trust"
down_revision: str | None = "0004_offices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("last_totp_step", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("claimed", sa.String(200), nullable=False, server_default=""))
    op.create_table(
        "api_scan_jobs",
        sa.Column("scan_id", sa.Integer(), sa.ForeignKey("scans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("agency", sa.String(200), nullable=False, server_default=""),
        sa.Column("submitted_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("worker", sa.String(300), nullable=False, server_default=""),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
    )


    op.create_table(
        "agency_suppressions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("set_id", sa.Integer(), sa.ForeignKey("hash_sets.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("signal_type", sa.String(30), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("set_id", "agency", "signal_type", "value"),
    )


def downgrade() -> None:
    op.drop_table("agency_suppressions")
    op.drop_table("api_scan_jobs")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("claimed")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_totp_step")
