"""Writing and reading audit records: who, what, when, outcome, from where, why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.audit.chain import VerifyReport, append_records, verify_chain
from cvis.audit.checkpoints import CheckpointForged, read_checkpoints, write_checkpoint
from cvis.audit.entries import (  # noqa: F401 - re-exported: the log's public names
    MAX_FIELD,
    Actor,
    AuditEntry,
    AuditNote,
    _clip,
    _failed,
    cli_actor,
    entry_fields,
    from_policy_actor,
)
from cvis.audit.keys import AuditKeyError, load_key
from cvis.store.db import Store
from cvis.store.models import AuditRecord, utcnow


def record_event(store: Store, entry: AuditEntry) -> None:
    """Append one record in its own short transaction (never inside a caller's unit of work)."""
    key = load_key(store.settings)
    with store.session() as session:
        seq, head = append_records(session, [(entry_fields(entry), utcnow())], key)
    write_checkpoint(store.settings, key, seq, head)


def record_in(session: Session, store: Store, entry: AuditEntry) -> tuple[int, str]:
    """Append one record inside the caller's transaction, so it commits with the change it
    records (or not at all); call ``checkpoint`` with the result after the commit."""
    return append_records(session, [(entry_fields(entry), utcnow())], load_key(store.settings))


def checkpoint(store: Store, head: tuple[int, str]) -> None:
    write_checkpoint(store.settings, load_key(store.settings), *head)


def verify_log(store: Store) -> VerifyReport:
    """The chain checked with the key and against every signed checkpoint."""
    try:
        key = load_key(store.settings, create=False)
        points = read_checkpoints(store.settings, key)
    except (AuditKeyError, CheckpointForged) as exc:
        return VerifyReport(False, 0, str(exc))
    with store.session() as session:
        return verify_chain(session, key, points)


@contextmanager
def audited(
    store: Store,
    component: str,
    event: str,
    obj: str = "",
    purpose: str = "",
    actor: Actor | None = None,
) -> Iterator[AuditNote]:
    """Record the intent before the block and its outcome after (success, or failure with
    the reason, then re-raise): a process killed between a change's commit and its outcome
    record still leaves the intent on the log."""
    note = AuditNote(object=obj)
    who = actor or cli_actor()
    record_event(store, AuditEntry(component, event, who, "started", obj, purpose))
    try:
        yield note
    except BaseException as exc:
        outcome = "failure" if _failed(exc) else "success"
        detail = note.detail or f"{type(exc).__name__}: {exc}"
        record_event(store, AuditEntry(component, event, who, outcome, note.object, purpose,
                                       detail if outcome == "failure" else note.detail))
        raise
    record_event(store, AuditEntry(component, event, who, "success", note.object, purpose,
                                   note.detail))


@dataclass(frozen=True)
class AuditQuery:
    user: str | None = None
    agency: str | None = None
    event: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int = 0
    limit: int = 100


def search_audit(store: Store, query: AuditQuery) -> list[dict[str, Any]]:
    """Records matching every given field, oldest first, from ``after_seq`` on."""
    stmt = select(AuditRecord).where(AuditRecord.seq > query.after_seq)
    for column, value in (
        (AuditRecord.user, query.user),
        (AuditRecord.agency, query.agency),
        (AuditRecord.event, query.event),
        (AuditRecord.outcome, query.outcome),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.since is not None:
        stmt = stmt.where(AuditRecord.at >= as_utc(query.since))
    if query.until is not None:
        stmt = stmt.where(AuditRecord.at < as_utc(query.until))
    with store.session() as session:
        rows = session.scalars(stmt.order_by(AuditRecord.seq).limit(query.limit))
        return [_as_dict(r) for r in rows]


def as_utc(at: datetime) -> datetime:
    """An instant in UTC, the form both backends compare alike (SQLite keeps UTC text and
    drops any offset when binding, so +05:00 must be applied first). Naive input is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _as_dict(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": record.at.isoformat(),
        "component": record.component,
        "event": record.event,
        "user": record.user,
        "agency": record.agency,
        "outcome": record.outcome,
        "client": record.client,
        "object": record.object,
        "purpose": record.purpose,
        "detail": record.detail,
        "claimed": record.claimed,
        "record_hash": record.record_hash,
    }
