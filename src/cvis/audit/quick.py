"""The audit records of a light command (`cvis hash`), written without the database layer.

Every command is audited; importing SQLAlchemy to write two rows cost `cvis hash` most of
its start-up. On the embedded default (a SQLite file whose schema is current) the same
records are appended here through the standard library's sqlite3, with the same chain
arithmetic (``cvis.audit.digest``), the same transaction shape as ``append_records``
(head row updated first, so writers queue) and the same signed checkpoint; anywhere else
(PostgreSQL, a database not yet created or not current) the full writer does it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cvis.audit.checkpoints import write_checkpoint
from cvis.audit.digest import HEAD_ID, _storable, record_digest, utcnow
from cvis.audit.entries import AuditEntry, AuditNote, _failed, cli_actor, entry_fields
from cvis.audit.keys import load_key
from cvis.config import Settings, load_settings
from cvis.store.schema_head import file_head

_COLUMNS = ("seq", "at", "prev_hash", "record_hash", "component", "event", "user", "agency",
            "outcome", "client", "object", "purpose", "detail", "claimed")
_INSERT = (f"INSERT INTO audit_records ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")


def sqlite_file(settings: Settings) -> Path | None:
    """The database file when it is a plain SQLite file that exists; None otherwise."""
    url = settings.database_url
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = Path(url.split("///", 1)[-1])
    return path if path.name not in ("", ":memory:") and path.is_file() else None


def _connect(path: Path) -> sqlite3.Connection | None:
    """A connection set up as the store's engine sets its own, or None when the schema is not
    the files' head (the full writer then upgrades it first)."""
    head = file_head()
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL",
                       "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        conn.close()
        return None
    if head is None or rows != [(head,)]:
        conn.close()
        return None
    return conn


def _stored_time(at: datetime) -> str:
    """SQLAlchemy's SQLite DateTime text (naive UTC, microseconds), read back as ``at``."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def append_record(conn: sqlite3.Connection, fields: dict[str, str], at: datetime,
                  key: bytes) -> tuple[int, str]:
    """One record in its own transaction; the new head (seq, hash) for the checkpoint."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("UPDATE audit_head SET seq = seq + 1 WHERE id = ?", (HEAD_ID,))
        seq, prev_hash = conn.execute(
            "SELECT seq, record_hash FROM audit_head WHERE id = ?", (HEAD_ID,)
        ).fetchone()
        fields = {k: _storable(v) for k, v in fields.items()}
        digest = record_digest(key, prev_hash, seq, at, fields)
        row = {"seq": seq, "at": _stored_time(at), "prev_hash": prev_hash,
               "record_hash": digest} | fields
        conn.execute(_INSERT, [row[c] for c in _COLUMNS])
        conn.execute("UPDATE audit_head SET record_hash = ? WHERE id = ?", (digest, HEAD_ID))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return seq, digest


class _QuickLog:
    def __init__(self, settings: Settings, conn: sqlite3.Connection) -> None:
        self.settings, self.conn = settings, conn
        self.key = load_key(settings)

    def record(self, entry: AuditEntry) -> None:
        seq, head = append_record(self.conn, entry_fields(entry), utcnow(), self.key)
        write_checkpoint(self.settings, self.key, seq, head)


@contextmanager
def quick_audited(component: str, event: str, obj: str = "") -> Iterator[AuditNote]:
    """``cvis.audit.audited`` for a light command at the terminal (the CLI actor): intent
    before the block, outcome after, on the light path where it applies."""
    settings = load_settings()
    path = sqlite_file(settings)
    conn = _connect(path) if path is not None else None
    if conn is None:
        from cvis.audit.log import audited
        from cvis.store.db import Store

        with audited(Store(settings), component, event, obj) as note:
            yield note
        return
    try:
        yield from _audited_here(_QuickLog(settings, conn), component, event, obj)
    finally:
        conn.close()


def _audited_here(log: _QuickLog, component: str, event: str, obj: str) -> Iterator[AuditNote]:
    note = AuditNote(object=obj)
    who = cli_actor()
    log.record(AuditEntry(component, event, who, "started", obj))
    try:
        yield note
    except BaseException as exc:
        outcome = "failure" if _failed(exc) else "success"
        detail = note.detail or f"{type(exc).__name__}: {exc}"
        log.record(AuditEntry(component, event, who, outcome, note.object, "",
                              detail if outcome == "failure" else note.detail))
        raise
    log.record(AuditEntry(component, event, who, "success", note.object, "", note.detail))
