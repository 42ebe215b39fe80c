"""The matcher's indexes, one per registered signal type, cached beside the database.

The database is the source of truth. A generation number derived from the
chosen sets and the store's signal change counter (bumped by triggers on every
insert, update or removal of a known signal: migration 0007_signal_changes)
names the cached files; files of another generation, or that fail their
checksums, are rebuilt from the store. Each signal type's index lives in its
own folder, built by the index class the type names, so a plug-in signal is
cached and matched like a built-in one; ``SIGNALS.json`` beside them lists
which folders a generation has, so a current cache is opened without reading
the known signals at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cvis.index import IndexFileError
from cvis.index.signal_index import SignalIndex
from cvis.signals import SIGNAL_TYPES
from cvis.store.models import KnownMedia, KnownSignal, SignalChanges

log = logging.getLogger(__name__)


@dataclass
class MatchIndexes:
    """One index per signal type that the chosen sets hold."""

    by_signal: dict[str, SignalIndex] = field(default_factory=dict)

    def get(self, signal: str) -> SignalIndex | None:
        return self.by_signal.get(signal)


@dataclass
class _Rows:
    ids: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    media: list[int] = field(default_factory=list)


def _signals_of(set_ids: list[int]) -> Select[int, str, str, int]:
    return (
        select(KnownSignal.id, KnownSignal.signal_type, KnownSignal.value, KnownSignal.media_pk)
        .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
        .where(KnownMedia.set_id.in_(set_ids))
        .order_by(KnownSignal.id)
    )


def store_generation(session: Session, set_ids: list[int]) -> int:
    """Changes whenever the known signals of these sets change (or the registered types).

    One row read: the counter the database's triggers bump on any change to a known
    signal (of any set: a change elsewhere costs a rebuild, never a stale answer).
    """
    changes = session.scalar(select(SignalChanges.changes).where(SignalChanges.id == 1))
    if changes is None:  # the counter row is gone: fall back to reading every signal id
        count, highest, total = session.execute(
            select(func.count(KnownSignal.id), func.max(KnownSignal.id),
                   func.sum(KnownSignal.id))
            .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
            .where(KnownMedia.set_id.in_(set_ids))
        ).one()
        state = f"ids:{count}:{highest}:{total}"
    else:
        state = f"changes:{changes}"
    key = f"{sorted(set_ids)}:{state}:{sorted(SIGNAL_TYPES)}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:7], "big")


def _rows_by_signal(session: Session, set_ids: list[int]) -> dict[str, _Rows]:
    by_type: dict[str, _Rows] = defaultdict(_Rows)
    for signal_id, signal_type, stored, media_pk in session.execute(_signals_of(set_ids)):
        signal = SIGNAL_TYPES.get(signal_type)
        entry = signal.index_entry(stored) if signal else (signal_type, stored)
        if entry is None:
            continue
        signal_type, value = entry  # a vPDQ frame is looked up as a PDQ
        rows = by_type[signal_type]
        rows.ids.append(signal_id)
        rows.values.append(value)
        rows.media.append(media_pk)
    return by_type


def build_indexes(session: Session, set_ids: list[int]) -> MatchIndexes:
    """Every registered signal type the sets hold, indexed by the class its type names.

    Values of a type no longer registered are left out (a plug-in uninstalled).
    """
    indexes = MatchIndexes()
    for name, rows in _rows_by_signal(session, set_ids).items():
        signal = SIGNAL_TYPES.get(name)
        if signal is None:
            log.warning("known signals of unregistered type %r are not matched", name)
            continue
        indexes.by_signal[name] = signal.index_type().build(rows.ids, rows.values, rows.media)
    return indexes


def _folder_name(signal: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in signal)


def load_indexes(session: Session, set_ids: list[int], directory: Path | None) -> MatchIndexes:
    """Cached files when they are current, else a rebuild from the store (then cached)."""
    if directory is None:
        return build_indexes(session, set_ids)
    generation = store_generation(session, set_ids)
    folder = directory / hashlib.sha1(repr(sorted(set_ids)).encode()).hexdigest()[:16]
    names = _cached_names(folder, generation)
    if names is not None:
        try:
            return MatchIndexes({
                name: SIGNAL_TYPES[name].index_type().load(folder / _folder_name(name),
                                                           generation)
                for name in names
            })
        except (IndexFileError, KeyError) as exc:
            log.info("rebuilding match indexes from the store: %s", type(exc).__name__)
    indexes = build_indexes(session, set_ids)
    try:
        for name, index in indexes.by_signal.items():
            index.save(folder / _folder_name(name), generation)
        _write_names(folder, generation, sorted(indexes.by_signal))
    except OSError as exc:  # a read-only data directory still matches, only slower
        log.warning("could not cache match indexes in %s: %s", folder, exc)
    return indexes


SIGNALS = "SIGNALS.json"


def _cached_names(folder: Path, generation: int) -> list[str] | None:
    """The signal types cached for this generation, or None (none cached, or another)."""
    try:
        saved = json.loads((folder / SIGNALS).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("generation") != generation:
        return None
    names = saved.get("signals")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return names


def _write_names(folder: Path, generation: int, names: list[str]) -> None:
    """Written after the indexes it names, replaced atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{SIGNALS}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"generation": generation, "signals": names}))
    os.replace(tmp, folder / SIGNALS)
