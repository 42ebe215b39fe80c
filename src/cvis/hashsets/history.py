"""Reading a set as it was: current records, any past version, what a version changed.

known_media holds the current state; set_changes is an undo log (each change keeps the
record as it was before). The state at version N of an item is the prior of its earliest
change after N, or its current state when nothing changed it since.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashsets.records import RECORD_FIELDS, KnownRecord, record_from_dict
from cvis.signals import assemble
from cvis.store.models import KnownMedia, KnownSignal, SetChange, SetVersion

CHUNK = 1000


@dataclass(frozen=True)
class Change:
    """One item a version (or a range of versions) changed, with its states either side."""

    media_id: str
    action: str  # add, update, delete
    before: KnownRecord | None
    after: KnownRecord | None


def current_records(session: Session, set_id: int, media_ids: Sequence[str]) -> dict[
    str, KnownRecord
]:
    """The current records of the given media ids (absent ids are left out)."""
    found: dict[str, KnownRecord] = {}
    for start in range(0, len(media_ids), CHUNK):
        rows = session.execute(
            _MEDIA_ROWS.where(
                KnownMedia.set_id == set_id, KnownMedia.media_id.in_(media_ids[start:start + CHUNK])
            )
        ).all()
        found |= {r.media_id: r for r in _to_records(session, rows)}
    return found


def iter_current(session: Session, set_id: int) -> Iterator[KnownRecord]:
    """Every current record in media-id order, a chunk at a time (bounded memory)."""
    last: str | None = None
    while True:
        query = _MEDIA_ROWS.where(KnownMedia.set_id == set_id)
        if last is not None:
            query = query.where(KnownMedia.media_id > last)
        rows = session.execute(query.order_by(KnownMedia.media_id).limit(CHUNK)).all()
        if not rows:
            return
        yield from _to_records(session, rows)
        last = rows[-1].media_id


_MEDIA_ROWS = select(
    KnownMedia.id, KnownMedia.media_id, *(getattr(KnownMedia, f) for f in RECORD_FIELDS)
)


def _to_records(session: Session, rows: Sequence[Any]) -> list[KnownRecord]:
    stored: dict[int, list[tuple[str, str]]] = {r.id: [] for r in rows}
    for pk, kind, value in session.execute(
        select(KnownSignal.media_pk, KnownSignal.signal_type, KnownSignal.value)
        .where(KnownSignal.media_pk.in_(list(stored)))
        .order_by(KnownSignal.id)
    ):
        stored[pk].append((kind, value))
    # the first of a signal is the record's (a vPDQ value is all its rows)
    return [
        KnownRecord(media_id=r.media_id, signals=assemble(stored[r.id]),
                    **{f: getattr(r, f) for f in RECORD_FIELDS})
        for r in rows
    ]


def _later_priors(
    session: Session, set_id: int, number: int, media_ids: Sequence[str] | None
) -> dict[str, dict[str, Any] | None]:
    """For each item changed after version ``number``: its state at that version (None: absent)."""
    query = (
        select(SetChange.media_id, SetChange.prior)
        .join(SetVersion, SetVersion.id == SetChange.version_id)
        .where(SetVersion.set_id == set_id, SetVersion.number > number)
        .order_by(SetVersion.number, SetChange.id)
    )
    if media_ids is not None:
        query = query.where(SetChange.media_id.in_(media_ids))
    earliest: dict[str, dict[str, Any] | None] = {}
    for media_id, prior in session.execute(query):
        earliest.setdefault(media_id, prior)
    return earliest


def states_at(
    session: Session, set_id: int, number: int | None, media_ids: Sequence[str]
) -> dict[str, KnownRecord | None]:
    """The records of these media ids as of version ``number`` (None: the current state)."""
    states: dict[str, KnownRecord | None] = {}
    for start in range(0, len(media_ids), CHUNK):
        chunk = media_ids[start:start + CHUNK]
        later = {} if number is None else _later_priors(session, set_id, number, chunk)
        current = current_records(session, set_id, [m for m in chunk if m not in later])
        for media_id in chunk:
            prior = later.get(media_id)
            states[media_id] = (
                current.get(media_id) if media_id not in later
                else None if prior is None else record_from_dict(prior)
            )
    return states


def iter_records_at(session: Session, set_id: int, number: int | None) -> Iterator[KnownRecord]:
    """Every record of the set as of version ``number`` (None: now)."""
    if number is None:
        yield from iter_current(session, set_id)
        return
    later = _later_priors(session, set_id, number, None)
    present: set[str] = set()
    for record in iter_current(session, set_id):
        if record.media_id not in later:
            yield record
            continue
        present.add(record.media_id)
        if (prior := later[record.media_id]) is not None:
            yield record_from_dict(prior)
    for media_id in sorted(set(later) - present):
        if (prior := later[media_id]) is not None:
            yield record_from_dict(prior)


def iter_version_changes(
    session: Session, set_id: int, first: int, last: int
) -> Iterator[Change]:
    """What versions first..last did, net: each touched item's state before first and after last."""
    for chunk in _chunks(_touched(session, set_id, first, last), CHUNK):
        before = states_at(session, set_id, first - 1, chunk)
        after = states_at(session, set_id, last, chunk)
        for media_id in chunk:
            old, new = before[media_id], after[media_id]
            if old == new:
                continue
            action = "add" if old is None else "delete" if new is None else "update"
            yield Change(media_id, action, old, new)


def _touched(session: Session, set_id: int, first: int, last: int) -> Iterator[str]:
    rows = session.execute(
        select(SetChange.media_id)
        .join(SetVersion, SetVersion.id == SetChange.version_id)
        .where(SetVersion.set_id == set_id, SetVersion.number.between(first, last))
        .distinct()
        .order_by(SetChange.media_id)
    )
    for (media_id,) in rows:
        yield media_id


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
