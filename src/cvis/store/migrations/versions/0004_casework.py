"""casework: folder manifests for evidence verification; scan leases (interrupted scans)

Revision ID: 0004_casework
Revises: 0004_trust
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_casework"
down_revision: str | None = "0004_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_manifests",
        sa.Column("evidence_id", sa.Integer,
                  sa.ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total_size", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("files", sa.JSON, nullable=False),
    )
    op.create_table(
        "scan_leases",
        sa.Column("scan_id", sa.Integer,
                  sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False, server_default=""),
        sa.Column("pid", sa.Integer, nullable=False, server_default="0"),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scan_leases")
    op.drop_table("evidence_manifests")
