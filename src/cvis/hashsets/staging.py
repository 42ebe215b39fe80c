"""Records as column batches: the compact form a reader process sends and the bulk writer binds.

A batch holds plain lists of strings, ints and None, one list per column, so it pickles in
a fraction of the time of record objects and turns into driver rows with one ``zip``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cvis.hashsets.categories import apply_caid
from cvis.hashsets.records import KnownRecord, RecordError

STAGED_SIGNALS = ("md5", "sha1", "sha256", "pdq")
_STAGED_SIGNAL_SET = frozenset(STAGED_SIGNALS)
# Everything else a record may carry travels as one JSON text, None when all of it is unset:
# each bound value costs the driver about as much as the database's work on a whole row.
STAGED_COLUMNS = ("media_id", "category", *STAGED_SIGNALS, "rest")
REST_FIELDS = ("series", "victim_identified", "offender_identified", "distributed", "tags",
               "extra")
BATCH_RECORDS = 20_000
MAX_REPORTED_ERRORS = 1000


def _make_dumps() -> Callable[[Any], str]:
    """``json.dumps`` with default arguments, at less than half its per-call cost.

    json.dumps builds a new C encoder on every call; this one is built once. Records come
    from parsers, so they hold no cycles and need no cycle check.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the _json accelerator
        return json.dumps
    encoder = make(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii,
                   None, ": ", ", ", False, False, True)
    return lambda value: "".join(encoder(value, 0))


dumps = _make_dumps()


@dataclass
class StagedBatch:
    """Up to BATCH_RECORDS consecutive records of a list, the last one per media id kept.

    ``consumed`` counts every record read and ``position`` is how far into the file the batch
    ends (both for progress), ``live`` holds the records to write as columns, ``tombstones``
    the media ids the list deletes; a media id is in one or the other.
    """

    consumed: int = 0
    position: int = 0
    live: tuple[list[Any], ...] = field(default_factory=lambda: tuple([] for _ in STAGED_COLUMNS))
    tombstones: list[str] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    error_count: int = 0

    def records(self) -> list[KnownRecord]:
        """The live rows as records again (for the update path, which compares with priors)."""
        return [record_from_row(row) for row in zip(*self.live, strict=True)]


def stage_records(
    items: Iterable[KnownRecord | RecordError], batch_records: int = BATCH_RECORDS,
    position: Callable[[], int] | None = None,
) -> Iterator[StagedBatch]:
    """Group a format's output into batches; CAID letters are checked and mapped on the way.

    ``position`` tells how many bytes of the file have been read (for a progress bar).
    """
    batch, errors_kept, consumed = StagedBatch(), 0, 0
    latest: dict[str, KnownRecord] = {}
    for number, item in enumerate(items, start=1):
        consumed += 1
        if isinstance(item, KnownRecord):
            try:
                record = apply_caid(item)
            except ValueError as exc:
                item = RecordError(number, str(exc), "record")
            else:
                media_id = record.media_id
                if media_id in latest:
                    del latest[media_id]  # re-inserted last: file order is kept
                latest[media_id] = record
        if isinstance(item, RecordError):
            batch.error_count += 1
            if errors_kept < MAX_REPORTED_ERRORS:
                batch.errors.append(item)
                errors_kept += 1
        if consumed >= batch_records:
            batch.consumed = consumed
            yield _filled(batch, latest, position)
            batch, latest, consumed = StagedBatch(), {}, 0
    if consumed:
        batch.consumed = consumed
        yield _filled(batch, latest, position)


def _filled(batch: StagedBatch, latest: dict[str, KnownRecord],
            position: Callable[[], int] | None) -> StagedBatch:
    batch.position = position() if position else 0
    live = []
    for record in latest.values():
        if record.deleted:
            batch.tombstones.append(record.media_id)
        else:
            live.append(record)
    batch.live = as_columns(live)
    return batch


def as_columns(records: Iterable[KnownRecord]) -> tuple[list[Any], ...]:
    """Records as STAGED_COLUMNS lists (the form the bulk writer binds)."""
    rows = [record_row(record) for record in records]
    if not rows:
        return tuple([] for _ in STAGED_COLUMNS)
    return tuple(list(column) for column in zip(*rows, strict=True))


def record_row(record: KnownRecord) -> tuple[Any, ...]:
    """One STAGED_COLUMNS row; the rest holds only the REST_FIELDS (and signals) that are set."""
    signals = record.signals
    get = signals.get
    rest: dict[str, Any] = {}
    if record.series is not None:
        rest["series"] = record.series
    if record.victim_identified is not None:
        rest["victim_identified"] = record.victim_identified
    if record.offender_identified is not None:
        rest["offender_identified"] = record.offender_identified
    if record.distributed is not None:
        rest["distributed"] = record.distributed
    if record.tags:
        rest["tags"] = record.tags
    if record.extra:
        rest["extra"] = record.extra
    if not signals.keys() <= _STAGED_SIGNAL_SET:
        rest["signals"] = {k: v for k, v in signals.items() if k not in _STAGED_SIGNAL_SET}
    return (record.media_id, record.category, get("md5"), get("sha1"), get("sha256"),
            get("pdq"), dumps(rest) if rest else None)


def record_from_row(row: tuple[Any, ...]) -> KnownRecord:
    media_id, category, *hashes, rest_text = row
    signals = {n: v for n, v in zip(STAGED_SIGNALS, hashes, strict=True) if v is not None}
    rest = json.loads(rest_text) if rest_text else {}
    signals.update(rest.get("signals", {}))
    return KnownRecord(
        media_id=media_id, signals=signals, category=category, series=rest.get("series"),
        victim_identified=rest.get("victim_identified"),
        offender_identified=rest.get("offender_identified"),
        distributed=rest.get("distributed"), tags=rest.get("tags", []),
        extra=rest.get("extra", {}),
    )
