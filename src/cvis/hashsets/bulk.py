"""Driver-level batch writes for imports: prepared rows through executemany, few round trips.

The ORM is too slow for millions of rows; this is the one place hash-set code speaks SQL
dialects (id allocation and placeholders differ between SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, text

from cvis.hashsets.records import KnownRecord
from cvis.hashsets.staging import (
    REST_FIELDS,
    STAGED_COLUMNS,
    STAGED_SIGNALS,
    as_columns,
    record_from_row,
)
from cvis.signals import stored_rows

MEDIA_COLUMNS = ("id", "set_id", "media_id", "category", "series", "victim_identified",
                 "offender_identified", "distributed", "tags", "extra")
# A large page cache keeps the unique and hash indexes in memory while millions of rows go in.
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
# Secondary indexes a big SQLite import drops and rebuilds (sorted) before it commits. Inside
# the one transaction this is invisible to readers (WAL snapshots) and undone on rollback.
# (ix_known_signals_media stays: its keys arrive in order, so keeping it costs little.)
DEFERRABLE_INDEXES = ("ix_known_signals_type_value", "ix_set_changes_version_media")
DEFER_AFTER_ROWS = 200_000
# Index builds at the end of a big import sort millions of keys; SQLite can split the sort.
SQLITE_SORT_THREADS = 2
# ... and sorts in runs the size of the page cache: small runs stay in the CPU's caches and
# build a 20 M-key index in about half the time a 256 MiB run takes (benchmarks/hashsets.md).
SQLITE_INDEX_BUILD_CACHE_KIB = 16 * 1024
STAGE_TABLE = "cvis_import_stage"
# Rows queued in the stage before they go into the set together, sorted by media id.
STAGE_FLUSH_ROWS = 200_000


class BulkWriter:
    """Inserts known media, their signals and change-log rows for one version.

    New records go through a per-connection temporary staging table: one bound row per
    record, then plain INSERT ... SELECT statements fan it out to media, signals and the
    change log inside the database, which costs far less than binding each of those rows.
    """

    def __init__(self, conn: Connection, set_id: int, version_id: int) -> None:
        self.conn, self.set_id, self.version_id = conn, set_id, version_id
        self.sqlite = conn.dialect.name == "sqlite"
        self._mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        mark = self._mark
        self._signal_sql = _insert("known_signals", ("media_pk", "signal_type", "value"), mark)
        self._change_sql = _insert(
            "set_changes", ("version_id", "media_id", "action", "prior"), mark
        )
        self._cache_before = None
        if self.sqlite:
            self._cache_before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
            conn.exec_driver_sql(f"PRAGMA threads={SQLITE_SORT_THREADS}")
        self._media_from_stage = _media_from_stage(self.sqlite)
        self._other_signals = (
            "json_extract(rest, '$.signals')" if self.sqlite else "CAST(rest AS JSON)->>'signals'"
        )
        self._create_stage()
        self.staged = 0
        self._next_id: int | None = None
        self._added = 0
        self._deferred: list[str] | None = None
        self._rows_before = self._table_size("known_signals") if self.sqlite else 0

    def add_new(self, records: Sequence[KnownRecord]) -> list[KnownRecord]:
        """Insert records believed new; returns those whose media id was already there."""
        self.stage(as_columns(records))
        return self.flush()[1]

    def stage(self, columns: tuple[list[Any], ...]) -> None:
        """Queue rows believed new (in file order); nothing reaches the set until flush."""
        count = len(columns[0])
        if not count:
            return
        first = self._allocate_ids(count)
        if self.sqlite:
            # Columns empty in the whole batch (sha256 and pdq in most lists) are left to
            # default to NULL: every bound value costs the driver time.
            used = [i for i, column in enumerate(columns) if column.count(None) < count]
            names = ("id", *(STAGED_COLUMNS[i] for i in used))
            rows = zip(range(first, first + count), *(columns[i] for i in used), strict=True)
            self.conn.exec_driver_sql(_insert(STAGE_TABLE, names, self._mark), list(rows))
        else:
            self._copy_to_stage(zip(range(first, first + count), *columns, strict=True))
        self.staged += count

    def flush(self) -> tuple[int, list[KnownRecord]]:
        """Move the queued rows into the set: (rows added, rows whose media id it already had,
        in file order). A media id queued twice is added once, from its first row."""
        count, self.staged = self.staged, 0
        if not count:
            return 0, []
        # In key order, each insert lands near the last in the (set_id, media_id) index, which
        # costs about half as much as random order when the list's media ids are random.
        inserted = self.conn.exec_driver_sql(
            f"INSERT INTO known_media ({', '.join(MEDIA_COLUMNS)}) "
            f"SELECT id, {int(self.set_id)}, {self._media_from_stage} "
            "WHERE true ORDER BY media_id, id ON CONFLICT DO NOTHING"
        ).rowcount
        seen = [] if inserted == count else self._take_seen()
        self._fan_out_stage()
        self._added += count - len(seen)
        self._maybe_defer_indexes()
        return count - len(seen), seen

    def _copy_to_stage(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """PostgreSQL: COPY, which streams rows without a statement round per row."""
        driver = self.conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(
            f"COPY {STAGE_TABLE} (id, {', '.join(STAGED_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)

    def _create_stage(self) -> None:
        columns = ", ".join(
            f"{c} {'INTEGER' if c == 'category' else 'TEXT'}" for c in STAGED_COLUMNS
        )
        self.conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} "
            f"(id INTEGER PRIMARY KEY, {columns})"
        )
        self.conn.exec_driver_sql(f"DELETE FROM {STAGE_TABLE}")  # left by an aborted import

    def _take_seen(self) -> list[KnownRecord]:
        """Staged rows whose media id the set already had: out of the stage, back as records."""
        absent = (f"FROM {STAGE_TABLE} s WHERE NOT EXISTS "
                  "(SELECT 1 FROM known_media m WHERE m.id = s.id)")
        rows = self.conn.exec_driver_sql(
            f"SELECT {', '.join(STAGED_COLUMNS)} {absent} ORDER BY s.id"
        ).all()
        self.conn.exec_driver_sql(
            f"DELETE FROM {STAGE_TABLE} WHERE NOT EXISTS "
            f"(SELECT 1 FROM known_media m WHERE m.id = {STAGE_TABLE}.id)"
        )
        return [record_from_row(tuple(row)) for row in rows]

    def _fan_out_stage(self) -> None:
        """Signals and 'add' change rows from the staged media, then an empty stage."""
        self.conn.exec_driver_sql(
            "INSERT INTO known_signals (media_pk, signal_type, value) "
            + " UNION ALL ".join(
                f"SELECT id, '{name}', {name} FROM {STAGE_TABLE} WHERE {name} IS NOT NULL"
                for name in STAGED_SIGNALS
            )
        )
        others = self.conn.exec_driver_sql(
            f"SELECT id, signals FROM (SELECT id, {self._other_signals} AS signals "
            f"FROM {STAGE_TABLE} WHERE rest IS NOT NULL) AS s WHERE signals IS NOT NULL"
        ).all()
        rows = [(pk, kind, value) for pk, text in others
                for kind, value in stored_rows(json.loads(text))]
        if rows:
            self.conn.exec_driver_sql(self._signal_sql, rows)
        self.conn.exec_driver_sql(
            "INSERT INTO set_changes (version_id, media_id, action, prior) "
            f"SELECT {int(self.version_id)}, media_id, 'add', NULL FROM {STAGE_TABLE} "
            "ORDER BY id"
        )
        self.conn.exec_driver_sql(f"DELETE FROM {STAGE_TABLE}")

    def insert_signals(self, placed: Sequence[tuple[int, KnownRecord]]) -> None:
        rows = [(pk, kind, value) for pk, r in placed for kind, value in stored_rows(r.signals)]
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
        if self._deferred:
            self.conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_INDEX_BUILD_CACHE_KIB}")
        for sql in self._deferred or []:
            self.conn.exec_driver_sql(sql)
        self._deferred = []
        if self._cache_before is not None:  # the pooled connection goes back as it came
            self.conn.exec_driver_sql(f"PRAGMA cache_size={int(self._cache_before)}")

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


def _media_from_stage(sqlite: bool) -> str:
    """The known_media columns after id and set_id, unpacked from the stage's JSON ``rest``."""
    empty = {"tags": "[]", "extra": "{}"}
    values = []
    for name in REST_FIELDS:
        if sqlite:  # JSON stays text and booleans integers, just as json_extract gives them
            value = f"json_extract(rest, '$.{name}')"
            values.append(f"coalesce({value}, '{empty[name]}')" if name in empty else value)
        elif name in empty:
            values.append(f"coalesce(r->'{name}', CAST('{empty[name]}' AS JSON))")
        else:
            value = f"r->>'{name}'"
            values.append(value if name == "series" else f"CAST({value} AS BOOLEAN)")
    source = (STAGE_TABLE if sqlite
              else f"(SELECT *, CAST(rest AS JSON) AS r FROM {STAGE_TABLE}) AS s")
    return f"media_id, category, {', '.join(values)} FROM {source}"


def _insert(table: str, columns: Sequence[str], mark: str, suffix: str = "") -> str:
    marks = ", ".join(mark for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}"
