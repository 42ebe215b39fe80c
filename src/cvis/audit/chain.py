"""The hash chain: each record's hash covers its fields and the previous record's hash.

Changing a stored field breaks that record's hash; removing or inserting a record
breaks the sequence or the next record's ``prev_hash``; the one-row head names
the newest record, so a removed or appended tail shows too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from cvis.store.models import AuditHead, AuditRecord

GENESIS = "0" * 64
HEAD_ID = 1
VERIFY_BATCH = 5000
CHAINED_FIELDS = (
    "component", "event", "user", "agency", "outcome", "client", "object", "purpose", "detail",
)


def canonical_time(at: datetime) -> str:
    """SQLite hands back naive UTC, PostgreSQL aware: both hash the same."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_digest(prev_hash: str, seq: int, at: datetime, fields: dict[str, Any]) -> str:
    body = [seq, canonical_time(at)] + [fields[name] for name in CHAINED_FIELDS]
    payload = prev_hash + "\n" + json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append_records(session: Session, entries: list[tuple[dict[str, str], datetime]]) -> int:
    """Append records in order; the head-row UPDATE comes first so concurrent writers queue."""
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq + len(entries))
    )
    last_seq, prev_hash = session.execute(
        select(AuditHead.seq, AuditHead.record_hash).where(AuditHead.id == HEAD_ID)
    ).one()
    rows = []
    for seq, (fields, at) in enumerate(entries, start=last_seq - len(entries) + 1):
        digest = record_digest(prev_hash, seq, at, fields)
        rows.append({"seq": seq, "at": at, "prev_hash": prev_hash, "record_hash": digest} | fields)
        prev_hash = digest
    session.execute(insert(AuditRecord), rows)  # Core executemany: no ORM bookkeeping
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(record_hash=prev_hash)
    )
    return last_seq


@dataclass(frozen=True)
class VerifyReport:
    intact: bool
    records: int
    problem: str | None = None
    first_bad_seq: int | None = None


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in CHAINED_FIELDS}


def _check(record: AuditRecord, expected_seq: int, prev_hash: str) -> str | None:
    if record.seq > expected_seq:
        return f"record(s) {expected_seq}..{record.seq - 1} are missing"
    if record.seq < expected_seq:
        return f"record {record.seq} (id {record.id}) was inserted out of sequence"
    digest = record_digest(record.prev_hash, record.seq, record.at, _fields(record))
    if digest != record.record_hash:
        return f"record {record.seq} (id {record.id}) was altered"
    if record.prev_hash != prev_hash:
        return (
            f"record {record.seq} (id {record.id}) does not follow record {record.seq - 1}: "
            "a record was inserted, replaced or removed before it"
        )
    return None


def verify_chain(session: Session) -> VerifyReport:
    """Walk the chain in order and name the first record that does not hold."""
    expected, prev_hash, count = 1, GENESIS, 0
    while True:
        batch = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.seq >= expected)
                .order_by(AuditRecord.seq)
                .limit(VERIFY_BATCH)
            )
        )
        if not batch:
            break
        for record in batch:
            problem = _check(record, expected, prev_hash)
            if problem:
                return VerifyReport(False, count, problem, min(record.seq, expected))
            expected, prev_hash, count = record.seq + 1, record.record_hash, count + 1
        session.expunge_all()
    return _check_head(session, expected - 1, prev_hash, count)


def _check_head(session: Session, last_seq: int, last_hash: str, count: int) -> VerifyReport:
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return VerifyReport(False, count, "the chain head row is missing", last_seq + 1)
    if head.seq > last_seq:
        return VerifyReport(
            False, count, f"record(s) {last_seq + 1}..{head.seq} are missing from the end",
            last_seq + 1,
        )
    if head.seq < last_seq or head.record_hash != last_hash:
        first = head.seq + 1 if head.seq < last_seq else last_seq
        return VerifyReport(
            False, count, f"record {first} is beyond the chain head: it was inserted or altered",
            first,
        )
    return VerifyReport(True, count)
