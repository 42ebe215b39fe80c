"""signal_changes: a counter the database bumps on every change to the known signals, so
that the matcher tells whether its cached indexes are current with one row read

Before, the cache's generation was a count, maximum and sum of the chosen sets' signal ids:
a scan of every known signal on each lookup (3 s at 2M in SQLite), blind to a deleted
highest id reused by the next insert (SQLite reuses it). Triggers cannot be forgotten by a
writer: imports, media imports, plain SQL and cascades from deleted media or sets all count.
SQLite: a row trigger per inserted, updated or deleted signal (adds ~1 us a row to bulk
imports); PostgreSQL: one statement trigger per statement. A migration that rebuilds
``known_signals`` (``batch_alter_table`` in SQLite) must create the triggers again.

Revision ID: 0007_signal_changes
Revises: 0006_fusion2
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_signal_changes"
down_revision: str | None = "0006_fusion2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE signal_changes SET changes = changes + 1 WHERE id = 1"
SQLITE_TRIGGERS = {
    "known_signals_inserted": "AFTER INSERT ON known_signals",
    "known_signals_updated": "AFTER UPDATE ON known_signals",
    "known_signals_deleted": "AFTER DELETE ON known_signals",
    "known_media_moved": "AFTER UPDATE OF set_id ON known_media",
}
POSTGRES_TRIGGERS = {
    "known_signals_changed": "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON known_signals",
    "known_media_moved": "AFTER UPDATE OF set_id ON known_media",
}


def upgrade() -> None:
    op.create_table(
        "signal_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("changes", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO signal_changes (id, changes) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for name, when in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN {BUMP}; END")
        return
    op.execute("CREATE FUNCTION cvis_signal_changed() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN {BUMP}; RETURN NULL; END $$")
    for name, when in POSTGRES_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION cvis_signal_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS known_signals_changed ON known_signals")
        op.execute("DROP TRIGGER IF EXISTS known_media_moved ON known_media")
        op.execute("DROP FUNCTION IF EXISTS cvis_signal_changed()")
    op.drop_table("signal_changes")
