"""Linkage state: runs, links, linked records, identities, decisions and leads.

Kept in one DuckDB file under the state directory, apart from the main cvis
store, because it is bulk tabular data written once a month and read by SQL. It
holds personal data: the file is readable by its owner only (mode 0600, the
directory 0700), and every command that reads or writes it leaves an audit record
naming the tables it read and wrote.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

SCHEMA_VERSION = 2
DB_FILE = "linkage.duckdb"
_TABLES = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_]+)", re.IGNORECASE)
_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|ALTER)", re.IGNORECASE)

_DDL = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id INTEGER PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP,
        engine VARCHAR, threshold DOUBLE, registry VARCHAR, inputs JSON, models JSON,
        n_links INTEGER, n_issues INTEGER)""",
    """CREATE TABLE IF NOT EXISTS links (
        run_id INTEGER, registry_id VARCHAR, index_name VARCHAR, record_id VARCHAR,
        match_probability DOUBLE, match_weight DOUBLE, agreement VARCHAR,
        fingerprint VARCHAR, person_id VARCHAR)""",
    *[f"ALTER TABLE links ADD COLUMN IF NOT EXISTS {c} VARCHAR"
      for c in ("band", "reason", "explanation", "identity", "office")],
    """CREATE TABLE IF NOT EXISTS records (
        run_id INTEGER, source VARCHAR, record_id VARCHAR, data JSON)""",
    """CREATE TABLE IF NOT EXISTS persons (
        person_id VARCHAR, source VARCHAR, record_id VARCHAR, first_run INTEGER,
        PRIMARY KEY (source, record_id))""",
    """CREATE TABLE IF NOT EXISTS decisions (
        registry_id VARCHAR, index_name VARCHAR, record_id VARCHAR, decision VARCHAR,
        reviewer VARCHAR, note VARCHAR, decided_at TIMESTAMP, run_id INTEGER,
        fingerprint VARCHAR, PRIMARY KEY (registry_id, index_name, record_id))""",
    "ALTER TABLE decisions ADD COLUMN IF NOT EXISTS explanation VARCHAR",
    """CREATE TABLE IF NOT EXISTS leads (
        lead_id VARCHAR PRIMARY KEY, person_id VARCHAR, registry_id VARCHAR,
        index_name VARCHAR, record_id VARCHAR, field_office VARCHAR,
        created_at TIMESTAMP, run_id INTEGER, status VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS decision_log (
        registry_id VARCHAR, index_name VARCHAR, record_id VARCHAR, decision VARCHAR,
        reviewer VARCHAR, note VARCHAR, decided_at TIMESTAMP, run_id INTEGER,
        fingerprint VARCHAR, explanation VARCHAR)""",
]


class LinkageState:
    """The state directory's database; one instance per command."""

    def __init__(self, directory: Path, purpose: str = "", audit: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.models = self.directory / "models"
        self.purpose, self.audit = purpose, audit
        self.read: set[str] = set()
        self.written: set[str] = set()
        old = os.umask(0o077)
        try:
            self.con = duckdb.connect(str(self.directory / DB_FILE))
        finally:
            os.umask(old)
        self._protect()
        for ddl in _DDL:
            self.con.execute(ddl)
        self.con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )

    def _protect(self) -> None:
        """Owner-only: the state holds names, dates of birth and identifiers."""
        os.chmod(self.directory, 0o700)
        for name in (DB_FILE, DB_FILE + ".wal"):
            path = self.directory / name
            if path.exists():
                os.chmod(path, 0o600)

    def _note(self, sql: str) -> None:
        tables = {t.lower() for t in _TABLES.findall(sql)} - {"_incoming", "_frame"}
        (self.written if _WRITES.match(sql) else self.read).update(tables)

    def close(self) -> None:
        self.con.close()
        self._protect()
        if self.audit:
            from cvis.linkage.audit import record_state_access

            record_state_access(self.directory, self.read, self.written, self.purpose)

    def __enter__(self) -> LinkageState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        self._note(sql)
        return self.con.execute(sql, params or []).df()

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        self._note(sql)
        self.con.execute(sql, params or [])

    def insert_frame(self, table: str, frame: pd.DataFrame) -> None:
        """Append a DataFrame whose columns are named as in the table."""
        if frame.empty:
            return
        self.written.add(table)
        self.con.register("_incoming", frame)
        cols = ", ".join(frame.columns)
        self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming")
        self.con.unregister("_incoming")

    def latest_run_id(self, before: int | None = None) -> int | None:
        """Most recent finished run (optionally before a given run)."""
        sql = "SELECT max(run_id) FROM runs WHERE finished_at IS NOT NULL"
        params: list[Any] = []
        if before is not None:
            sql += " AND run_id < ?"
            params.append(before)
        row = self.con.execute(sql, params).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def next_run_id(self) -> int:
        row = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()
        return int(row[0]) if row else 1
