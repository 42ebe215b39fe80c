"""fusion and foreign: subjects, facts, merges, queues, shares, detainers; screenings,
determinations, notices, deliveries, complaints, inbound requests

Revision ID: 0004_fusion
Revises: 0005_web
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_fusion"
down_revision: str | None = "0005_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _fk(name: str, target: str, ondelete: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete),
                     nullable=nullable)


def _s(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _t(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=False)


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, TZ, nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "fusion_subjects", _id(), _s("subject_id", 40), _s("agency", 200), _s("office", 100),
        _fk("merged_into", "fusion_subjects.id", "SET NULL", True), _when("created_at"),
        sa.UniqueConstraint("subject_id"),
    )
    op.create_table(
        "fusion_facts", _id(), _fk("subject_pk", "fusion_subjects.id", "CASCADE"),
        _s("name", 60), _json("value"), _s("source_kind", 30), _s("source_ref", 300),
        _when("observed_at"), sa.Column("confidence", sa.Float(), nullable=False),
        _when("recorded_at"), _s("recorded_by", 200), _when("retracted_at", True),
        _t("retraction"),
    )
    op.create_index("ix_fusion_facts_subject_pk", "fusion_facts", ["subject_pk"])
    op.create_table(
        "fusion_merges", _id(), _fk("kept_pk", "fusion_subjects.id", "CASCADE"),
        _fk("merged_pk", "fusion_subjects.id", "CASCADE"), _s("status", 20), _json("evidence"),
        _when("proposed_at"), _s("decided_by", 200), _when("decided_at", True),
        _s("undone_by", 200), _when("undone_at", True),
    )
    op.create_table(
        "fusion_assignments", _id(), _fk("subject_pk", "fusion_subjects.id", "CASCADE"),
        _s("office", 100), _s("team", 100), _s("assignee", 200), _s("status", 20),
        _s("outcome", 30), _s("link_key", 100), _t("note"), _s("created_by", 200),
        _when("created_at"), _when("accepted_at", True), _when("closed_at", True),
    )
    op.create_index("ix_fusion_assignments_subject_pk", "fusion_assignments", ["subject_pk"])
    op.create_table(
        "fusion_shares", _id(), _s("kind", 20), _s("ref", 100), _s("partner", 200),
        _json("rights"), _t("purpose"), _s("shared_by", 200), _when("shared_at"),
        _when("revoked_at", True),
    )
    op.create_index("ix_fusion_shares_ref", "fusion_shares", ["ref"])
    op.create_table(
        "fusion_detainers", _id(), _fk("subject_pk", "fusion_subjects.id", "CASCADE"),
        _s("link_key", 100), sa.Column("release_date", sa.Date(), nullable=False),
        _s("facility", 300), _s("status", 30), _json("body"), _when("drafted_at"),
        _s("signed_by", 200), _when("signed_at", True), _when("updated_at"),
        sa.UniqueConstraint("link_key"),
    )
    op.create_table(
        "travel_screenings", _id(), _s("kind", 20), _s("manifest_sha256", 64), _s("format", 10),
        _s("source", 1000), _s("registry_sha256", 64), _s("agency", 200),
        _s("screened_by", 200), _when("screened_at"),
        sa.Column("travellers", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
    )
    op.create_index("ix_travel_screenings_manifest_sha256", "travel_screenings",
                    ["manifest_sha256"])
    op.create_table(
        "travel_travellers", _id(), _fk("screening_id", "travel_screenings.id", "CASCADE"),
        sa.Column("position", sa.Integer(), nullable=False), _json("fields"),
        _when("departure_at"), _s("departure_zone", 64), _s("destination", 10),
        _s("flight", 20), sa.Column("hours_before", sa.Float(), nullable=False),
        _json("candidates"),
    )
    op.create_index("ix_travel_travellers_screening_id", "travel_travellers", ["screening_id"])
    op.create_table(
        "travel_determinations", _id(), _fk("traveller_id", "travel_travellers.id", "CASCADE"),
        _s("registry_id", 100), sa.Column("covered", sa.Boolean(), nullable=False),
        _t("basis"), sa.Column("notify", sa.Boolean(), nullable=False), _t("no_notice_reason"),
        _s("analyst", 200), _when("decided_at"),
    )
    op.create_index("ix_travel_determinations_traveller_id", "travel_determinations",
                    ["traveller_id"])
    op.create_table(
        "foreign_notices", _id(), _s("kind", 20), _s("registry_id", 100), _s("subject_ref", 100),
        _fk("determination_id", "travel_determinations.id", "SET NULL", True),
        _fk("corrects_id", "foreign_notices.id", "SET NULL", True),
        _s("country", 3), _s("channel", 30), _s("address", 320), _s("language", 10),
        _s("status", 20), _json("body"), _t("signature"), _s("key_id", 64), _s("agency", 200),
        _when("departure_at", True), _s("drafted_by", 200), _when("drafted_at"),
        _s("confirmed_by", 200), _when("confirmed_at", True), _when("sent_at", True),
        _when("received_at", True), _when("answered_at", True), _when("corrected_at", True),
    )
    op.create_table(
        "foreign_deliveries", _id(), _fk("notice_id", "foreign_notices.id", "CASCADE"),
        sa.Column("attempt", sa.Integer(), nullable=False), _when("at"), _s("outcome", 20),
        _t("detail"),
    )
    op.create_index("ix_foreign_deliveries_notice_id", "foreign_deliveries", ["notice_id"])
    op.create_table(
        "foreign_complaints", _id(), _fk("notice_id", "foreign_notices.id", "SET NULL", True),
        _s("channel", 20), _s("complainant", 300), _s("contact", 500), _s("language", 10),
        _t("statement"), _when("received_at"), _when("due_at"), _s("status", 20),
        _s("reviewer", 200), _when("decided_at", True), _t("explanation"), _t("prevention"),
        _fk("correction_id", "foreign_notices.id", "SET NULL", True), _json("letter"),
    )
    op.create_table(
        "foreign_inbound", _id(), _s("country", 3), _s("reference", 200), _when("received_at"),
        _json("traveller"), _fk("screening_id", "travel_screenings.id", "SET NULL", True),
        _s("status", 20), _s("approver", 200), _when("decided_at", True), _json("answer"),
    )


def downgrade() -> None:
    for table in ("foreign_inbound", "foreign_complaints", "foreign_deliveries",
                  "foreign_notices", "travel_determinations", "travel_travellers",
                  "travel_screenings", "fusion_detainers", "fusion_shares",
                  "fusion_assignments", "fusion_merges", "fusion_facts", "fusion_subjects"):
        op.drop_table(table)
