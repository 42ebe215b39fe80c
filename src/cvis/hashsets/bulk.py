"""Driver-level batch writes for imports: prepared rows through executemany, few round trips.

The ORM is too slow for millions of rows; this is the one place hash-set code speaks SQL
dialects (id allocation and placeholders differ between SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from cvis.hashsets.records import KnownRecord

MEDIA_COLUMNS = ("id", "set_id", "media_id", "category", "series", "victim_identified",
                 "offender_identified", "distributed", "tags", "extra")
# A large page cache keeps the unique and hash indexes in memory while millions of rows go in.
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
# Secondary indexes a big SQLite import drops and rebuilds (sorted) before it commits. Inside
# the one transaction this is invisible to readers (WAL snapshots) and undone on rollback.
DEFERRABLE_INDEXES = ("ix_known_signals_type_value", "ix_set_changes_version_media")
DEFER_AFTER_ROWS = 200_000


class BulkWriter:
    """Inserts known media, their signals and change-log rows for one version."""

    def __init__(self, conn: Connection, set_id: int, version_id: int) -> None:
        self.conn, self.set_id, self.version_id = conn, set_id, version_id
        self.sqlite = conn.dialect.name == "sqlite"
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self._media_sql = _insert("known_media", MEDIA_COLUMNS, mark, " ON CONFLICT DO NOTHING")
        self._signal_sql = _insert("known_signals", ("media_pk", "signal_type", "value"), mark)
        self._change_sql = _insert(
            "set_changes", ("version_id", "media_id", "action", "prior"), mark
        )
        if self.sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
        self._next_id: int | None = None
        self._added = 0
        self._deferred: list[str] | None = None
        self._rows_before = self._table_size("known_signals") if self.sqlite else 0

    def add_new(self, records: Sequence[KnownRecord]) -> list[KnownRecord]:
        """Insert records believed new; returns those whose media id was already there."""
        if not records:
            return []
        first = self._allocate_ids(len(records))
        rows = [_media_row(first + i, self.set_id, r) for i, r in enumerate(records)]
        self.conn.exec_driver_sql(self._media_sql, rows)
        inserted = self._ids_present(first, len(records))
        placed = [(first + i, r) for i, r in enumerate(records) if first + i in inserted]
        self.insert_signals(placed)
        self.log_changes([(r.media_id, "add", None) for _, r in placed])
        self._added += len(placed)
        self._maybe_defer_indexes()
        return [r for i, r in enumerate(records) if first + i not in inserted]

    def insert_signals(self, placed: Sequence[tuple[int, KnownRecord]]) -> None:
        rows = [(pk, kind, value) for pk, r in placed for kind, value in r.signals.items()]
        if rows:
            self.conn.exec_driver_sql(self._signal_sql, rows)

    def log_changes(self, changes: Sequence[tuple[str, str, dict[str, Any] | None]]) -> None:
        rows = [
            (self.version_id, media_id, action, None if prior is None else json.dumps(prior))
            for media_id, action, prior in changes
        ]
        if rows:
            self.conn.exec_driver_sql(self._change_sql, rows)

    def finish(self) -> None:
        """Rebuild any index dropped for speed; call before the transaction commits."""
        for sql in self._deferred or []:
            self.conn.exec_driver_sql(sql)
        self._deferred = []

    def _maybe_defer_indexes(self) -> None:
        # Only when this import outweighs the table already there, so a rebuild costs at most
        # about what the import itself adds.
        if (not self.sqlite or self._deferred is not None or self._added < DEFER_AFTER_ROWS
                or self._added < self._rows_before):
            return
        self._deferred = []
        for name in DEFERRABLE_INDEXES:
            sql = self.conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
            ).scalar()
            if sql:
                self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
                self._deferred.append(str(sql))

    def _table_size(self, table: str) -> int:
        return int(self.conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()
                   or 0)

    def _allocate_ids(self, count: int) -> int:
        if not self.sqlite:
            ids = self.conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('known_media', 'id')) "
                     "FROM generate_series(1, :n)"), {"n": count}
            ).scalars().all()
            # nextval in one statement is contiguous unless another writer interleaves.
            if ids and ids[-1] - ids[0] == count - 1:
                return int(ids[0])
            return self._allocate_ids(count)
        if self._next_id is None:
            # Safe: the version row is already written, so this transaction holds the write lock.
            self._next_id = int(
                self.conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM known_media").scalar()
                or 0
            ) + 1
        first, self._next_id = self._next_id, self._next_id + count
        return first

    def _ids_present(self, first: int, count: int) -> set[int]:
        bounds = {"lo": first, "hi": first + count - 1}
        found = self.conn.execute(
            text("SELECT count(*) FROM known_media WHERE id BETWEEN :lo AND :hi"), bounds
        ).scalar()
        if found == count:
            return set(range(first, first + count))
        present = self.conn.execute(
            text("SELECT id FROM known_media WHERE id BETWEEN :lo AND :hi"),
            bounds,
        ).scalars()
        return set(present)


def _insert(table: str, columns: Sequence[str], mark: str, suffix: str = "") -> str:
    marks = ", ".join(mark for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}"


def _media_row(pk: int, set_id: int, r: KnownRecord) -> tuple[Any, ...]:
    return (pk, set_id, r.media_id, r.category, r.series, r.victim_identified,
            r.offender_identified, r.distributed, _json(r.tags), _json(r.extra))


def _json(value: Any) -> str:
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value)
