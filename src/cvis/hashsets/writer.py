"""Applying one version's records to a set: adds, updates, tombstones, each logged."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cvis.hashsets.bulk import STAGE_FLUSH_ROWS, BulkWriter
from cvis.hashsets.history import current_records
from cvis.hashsets.records import RECORD_FIELDS, KnownRecord, record_to_dict
from cvis.hashsets.staging import StagedBatch
from cvis.signals import stored_rows
from cvis.store.models import KnownMedia, KnownSignal


@dataclass
class ChangeCounts:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


class VersionWriter:
    """Writes batches into one set inside the caller's transaction.

    A set that was empty when the version began takes the fast path: rows go straight in,
    and only media ids seen earlier in the same file fall back to the update path.
    """

    def __init__(self, session: Session, set_id: int, version_id: int, fresh: bool) -> None:
        self.session, self.set_id, self.fresh = session, set_id, fresh
        self.bulk = BulkWriter(session.connection(), set_id, version_id)
        self.counts = ChangeCounts()

    def apply(self, batch: StagedBatch) -> None:
        """Write one batch (a media id appears once in it: the file's last record for it)."""
        tombstones = [KnownRecord(media_id=m, deleted=True) for m in batch.tombstones]
        if not self.fresh:
            self._apply_existing({r.media_id: r for r in [*batch.records(), *tombstones]})
            return
        self.bulk.stage(batch.live)
        # A tombstone may name a queued row, so the queue goes in before tombstones apply.
        if tombstones or self.bulk.staged >= STAGE_FLUSH_ROWS:
            self._flush(tombstones)

    def finish(self) -> None:
        if self.fresh:
            self._flush([])
        self.bulk.finish()

    def _flush(self, tombstones: list[KnownRecord]) -> None:
        added, seen = self.bulk.flush()
        self.counts.added += added
        rest = [*seen, *tombstones]  # file order: a later record for a media id wins
        if rest:
            self._apply_existing({r.media_id: r for r in rest})

    def _apply_existing(self, latest: dict[str, KnownRecord]) -> None:
        existing = dict(self.session.execute(
            select(KnownMedia.media_id, KnownMedia.id).where(
                KnownMedia.set_id == self.set_id, KnownMedia.media_id.in_(list(latest))
            )
        ).all())
        priors = {k: record_to_dict(v) for k, v in
                  current_records(self.session, self.set_id, list(existing)).items()}
        gone = {m: existing[m] for m, r in latest.items() if r.deleted and m in existing}
        changed = {m: r for m, r in latest.items() if not r.deleted and m in existing}
        same = {m for m, r in changed.items() if record_to_dict(r) == priors[m]}
        self.counts.unchanged += len(same)
        self._remove(gone, priors)
        self._update({existing[m]: r for m, r in changed.items() if m not in same}, priors)
        new = [r for m, r in latest.items() if not r.deleted and m not in existing]
        if new:
            self.bulk.add_new(new)
            self.counts.added += len(new)

    def _remove(self, gone: dict[str, int], priors: dict[str, dict[str, Any]]) -> None:
        if not gone:
            return
        pks = list(gone.values())
        self.session.execute(delete(KnownSignal).where(KnownSignal.media_pk.in_(pks)))
        self.session.execute(delete(KnownMedia).where(KnownMedia.id.in_(pks)))
        self.bulk.log_changes([(m, "delete", priors[m]) for m in gone])
        self.counts.removed += len(gone)

    def _replace_signals(self, changed: dict[int, KnownRecord]) -> None:
        """Only the hashes that changed are replaced: a hash kept across versions keeps its
        row id, so a matcher built before this version still finds it (no gap in lookups
        while an import commits and the indexes catch up). A value kept in several rows (a
        video's frames) is kept or replaced whole."""
        existing: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
        for signal_id, pk, kind, value in self.session.execute(
            select(KnownSignal.id, KnownSignal.media_pk, KnownSignal.signal_type,
                   KnownSignal.value).where(KnownSignal.media_pk.in_(list(changed)))
            .order_by(KnownSignal.id)
        ):
            existing[(pk, kind)].append((signal_id, value))
        stale, kept = [], set()
        for (pk, kind), rows in existing.items():
            wanted = changed[pk].signals.get(kind)
            stored = [v for s, v in stored_rows({kind: wanted})] if wanted is not None else []
            if [v for _, v in rows[:len(stored)]] == stored and stored:
                kept.add((pk, kind))
                stale += [signal_id for signal_id, _ in rows[len(stored):]]
            else:
                stale += [signal_id for signal_id, _ in rows]
        if stale:
            self.session.execute(delete(KnownSignal).where(KnownSignal.id.in_(stale)))
        fresh = [(pk, replace(r, signals={k: v for k, v in r.signals.items()
                                          if (pk, k) not in kept}))
                 for pk, r in changed.items()]
        self.bulk.insert_signals(fresh)

    def _update(self, changed: dict[int, KnownRecord], priors: dict[str, dict[str, Any]]) -> None:
        if not changed:
            return
        self.session.execute(
            update(KnownMedia),
            [{"id": pk, **{f: getattr(r, f) for f in RECORD_FIELDS}} for pk, r in changed.items()],
        )
        self._replace_signals(changed)
        self.bulk.log_changes([(r.media_id, "update", priors[r.media_id])
                               for r in changed.values()])
        self.counts.updated += len(changed)
