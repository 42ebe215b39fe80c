"""Writing and reading audit records: who, what, when, outcome, from where, why."""

from __future__ import annotations

import getpass
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cvis.audit.chain import append_records
from cvis.store.db import Store
from cvis.store.models import AuditRecord, utcnow

AGENCY_ENV = "CVIS_AGENCY"
MAX_FIELD = 4000


@dataclass(frozen=True)
class Actor:
    """Who acted and from where."""

    user: str
    agency: str = ""
    client: str = ""


def cli_actor() -> Actor:
    """The operating-system account at this host; the agency from CVIS_AGENCY."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid:{os.getuid()}"
    return Actor(user, os.environ.get(AGENCY_ENV, ""), f"cli@{platform.node()}")


@dataclass(frozen=True)
class AuditEntry:
    component: str
    event: str
    actor: Actor
    outcome: str
    object: str = ""
    purpose: str = ""
    detail: str = ""


def _clip(value: str) -> str:
    return value if len(value) <= MAX_FIELD else value[: MAX_FIELD - 3] + "..."


def record_event(store: Store, entry: AuditEntry) -> None:
    """Append one record in its own short transaction (never inside a caller's unit of work)."""
    with store.session() as session:
        append_records(session, [(entry_fields(entry), utcnow())])


def entry_fields(entry: AuditEntry) -> dict[str, str]:
    return {
        "component": entry.component,
        "event": entry.event,
        "user": entry.actor.user,
        "agency": entry.actor.agency,
        "outcome": entry.outcome,
        "client": entry.actor.client,
        "object": _clip(entry.object),
        "purpose": _clip(entry.purpose),
        "detail": _clip(entry.detail),
    }


@dataclass
class AuditNote:
    """What the audited block learns as it runs (the object it touched, a summary)."""

    object: str = ""
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _failed(exc: BaseException) -> bool:
    return getattr(exc, "exit_code", getattr(exc, "code", 1)) not in (0, None)


@contextmanager
def audited(
    store: Store,
    component: str,
    event: str,
    obj: str = "",
    purpose: str = "",
    actor: Actor | None = None,
) -> Iterator[AuditNote]:
    """Record the block's outcome: success, or failure with the reason, then re-raise."""
    note = AuditNote(object=obj)
    who = actor or cli_actor()
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
        stmt = stmt.where(AuditRecord.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditRecord.at < query.until)
    with store.session() as session:
        rows = session.scalars(stmt.order_by(AuditRecord.seq).limit(query.limit))
        return [_as_dict(r) for r in rows]


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
        "record_hash": record.record_hash,
    }
