"""The keyed chain: each record's HMAC covers its fields and the previous record's hash.

The key lives outside the database (cvis.audit.keys), so someone who can write the
tables cannot compute a valid record: changing a field, inserting, replacing or
appending a record breaks the chain. Removing a tail (or the whole log) and rolling
the head row back leaves a valid but shorter chain; the signed checkpoints written
outside the database (cvis.audit.checkpoints) catch that, and an older copy of the
database put back.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Integer, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from cvis.audit.checkpoints import Checkpoint
from cvis.audit.digest import (  # noqa: F401 - re-exported: the chain's public names
    CHAINED_FIELDS,
    GENESIS,
    HEAD_ID,
    _storable,
    canonical_time,
    record_digest,
)
from cvis.store.models import AuditHead, AuditRecord

VERIFY_BATCH = 5000


_head, _records = cast(Table, AuditHead.__table__), cast(Table, AuditRecord.__table__)
# Built once (a statement built per batch cost more than executing it): Core statements on
# the tables, no ORM bookkeeping.
_BUMP = (update(_head).where(_head.c.id == HEAD_ID)
         .values(seq=_head.c.seq + bindparam("count", type_=Integer)))
_READ_HEAD = select(_head.c.seq, _head.c.record_hash).where(_head.c.id == HEAD_ID)
_SET_HEAD = update(_head).where(_head.c.id == HEAD_ID).values(record_hash=bindparam("head"))
_INSERT = insert(_records)


def append_records(
    session: Session | Connection, entries: list[tuple[dict[str, str], datetime]], key: bytes
) -> tuple[int, str]:
    """Append records in order; return the new head (seq, hash) for the checkpoint.

    The head-row UPDATE comes first so concurrent writers queue. In a session's
    transaction, or a Core connection's (the group commit's: no ORM unit of work).
    """
    connection = session.connection() if isinstance(session, Session) else session
    connection.execute(_BUMP, {"count": len(entries)})
    last_seq, prev_hash = connection.execute(_READ_HEAD).one()
    rows = []
    for seq, (fields, at) in enumerate(entries, start=last_seq - len(entries) + 1):
        fields = {k: _storable(v) for k, v in fields.items()}
        digest = record_digest(key, prev_hash, seq, at, fields)
        rows.append({"seq": seq, "at": at, "prev_hash": prev_hash, "record_hash": digest} | fields)
        prev_hash = digest
    connection.execute(_INSERT, rows)  # Core executemany
    connection.execute(_SET_HEAD, {"head": prev_hash})
    return last_seq, prev_hash


@dataclass(frozen=True)
class VerifyReport:
    intact: bool
    records: int
    problem: str | None = None
    first_bad_seq: int | None = None


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in CHAINED_FIELDS}


def _check(record: AuditRecord, expected_seq: int, prev_hash: str, key: bytes) -> str | None:
    if record.seq > expected_seq:
        return f"record(s) {expected_seq}..{record.seq - 1} are missing"
    if record.seq < expected_seq:
        return f"record {record.seq} (id {record.id}) was inserted out of sequence"
    digest = record_digest(key, record.prev_hash, record.seq, record.at, _fields(record))
    if not hmac.compare_digest(digest, record.record_hash):
        return (f"record {record.seq} (id {record.id}) was altered or written without the "
                "audit key")
    if record.prev_hash != prev_hash:
        return (
            f"record {record.seq} (id {record.id}) does not follow record {record.seq - 1}: "
            "a record was inserted, replaced or removed before it"
        )
    return None


def verify_chain(
    session: Session, key: bytes, checkpoints: Sequence[Checkpoint] = ()
) -> VerifyReport:
    """Walk the chain in order and name the first record that does not hold; then check
    that every signed checkpoint is a point of this chain (none beyond its end)."""
    wanted = _checkpoint_heads(checkpoints)
    if isinstance(wanted, VerifyReport):
        return wanted
    seen: dict[int, str] = {}
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
            problem = _check(record, expected, prev_hash, key)
            if problem:
                return VerifyReport(False, count, problem, min(record.seq, expected))
            if record.seq in wanted:
                seen[record.seq] = record.record_hash
            expected, prev_hash, count = record.seq + 1, record.record_hash, count + 1
        session.expunge_all()
    head = _check_head(session, expected - 1, prev_hash, count)
    if not head.intact:
        return head
    return _check_checkpoints(wanted, seen, count)


def _checkpoint_heads(checkpoints: Sequence[Checkpoint]) -> dict[int, str] | VerifyReport:
    wanted: dict[int, str] = {}
    for point in checkpoints:
        if wanted.setdefault(point.seq, point.head) != point.head:
            return VerifyReport(
                False, 0, f"two signed checkpoints disagree about record {point.seq}: the "
                "log was rolled back (an older copy restored) and written again", point.seq)
    return wanted


def _check_checkpoints(wanted: dict[int, str], seen: dict[int, str], count: int) -> VerifyReport:
    for seq in sorted(wanted):
        if seq not in seen:
            return VerifyReport(
                False, count, f"a signed checkpoint names record {seq}, but the chain ends at "
                f"{count}: records were removed from the end, the log wiped, or an older copy "
                "of the database restored", count + 1)
        if not hmac.compare_digest(seen[seq], wanted[seq]):
            return VerifyReport(
                False, count, f"record {seq} is not the one the signed checkpoint names: the "
                "history was rewritten or an older copy restored", seq)
    return VerifyReport(True, count)


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
