"""The tip line: tips, leads, lead keys, events, candidates, deadlines, tipster messages

Revision ID: 0004_tips
Revises: 0004_fusion
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_tips"
down_revision: str | None = "0004_fusion"  # main: the head when tips merged
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _lead_fk() -> sa.Column:
    return sa.Column("lead_id", sa.Integer(), sa.ForeignKey("tip_leads.id", ondelete="CASCADE"),
                     nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "tip_leads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("tier_override", sa.String(20)),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("office", sa.String(100), nullable=False, index=True),
        sa.Column("forwarded_to", sa.String(200), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        _at("created_at", False),
        _at("acknowledged_at"),
        _at("actioned_at"),
        _at("closed_at"),
    )
    op.create_table(
        "tips",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("receipt", sa.String(40), nullable=False, unique=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        _at("received_at", False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("passphrase_hash", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(64), unique=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("tip_leads.id"), nullable=False,
                  index=True),
    )
    op.create_table(
        "tip_lead_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        _lead_fk(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
    )
    op.create_index("ix_tip_lead_keys_value", "tip_lead_keys", ["kind", "value"])
    op.create_table(
        "tip_lead_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _lead_fk(),
        _at("at", False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_table(
        "tip_lead_candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        _lead_fk(),
        sa.Column("other_lead_id", sa.Integer(),
                  sa.ForeignKey("tip_leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("basis", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        _at("decided_at"),
    )
    op.create_table(
        "tip_lead_deadlines",
        sa.Column("id", sa.Integer(), primary_key=True),
        _lead_fk(),
        sa.Column("kind", sa.String(20), nullable=False),
        _at("due_at", False),
        _at("remind_at", False),
        _at("reminded_at"),
        _at("escalated_at"),
        _at("done_at"),
    )
    op.create_index("ix_tip_deadlines_open", "tip_lead_deadlines", ["done_at", "remind_at"])
    op.create_table(
        "tip_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tip_id", sa.Integer(), sa.ForeignKey("tips.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        _at("at", False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ("tip_messages", "tip_lead_deadlines", "tip_lead_candidates", "tip_lead_events",
                  "tip_lead_keys", "tips", "tip_leads"):
        op.drop_table(table)
