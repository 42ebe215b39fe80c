"""cvis's own CSV: one row per known media item, named columns, extra columns kept.

A video is one row with its ``vpdq`` value (threatexchange's signal string), or several rows
of one media id each with one frame's ``pdq`` (and optionally ``quality``, ``timestamp``,
``frame_number``): the rows are kept whole as one vPDQ value (``records.ItemRows``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import (
    KnownRecord,
    RecordError,
    grouped_items,
    normalize_hash,
    parse_bool,
    parse_category,
)

SIGNAL_COLUMNS = ("md5", "sha1", "sha256", "pdq", "vpdq")
KNOWN_COLUMNS = (
    "media_id",
    *SIGNAL_COLUMNS,
    "category",
    "series",
    "victim_identified",
    "offender_identified",
    "distributed",
    "tags",
)


def _bool_text(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


class CvisCsvFormat(HashListFormat):
    name = "csv"
    description = "CSV with columns media_id, md5, sha1, sha256, pdq, category, series, ..."
    columns = KNOWN_COLUMNS  # the header is checked against these before anything is read

    @classmethod
    def sniff(cls, head: str) -> bool:
        first = head.splitlines()[0].lower() if head else ""
        return "media_id" in first.split(",")

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        reader = csv.reader(stream)
        header = next(reader, None)
        if not header or "media_id" not in header:
            yield RecordError(1, "header must name a media_id column")
            return
        width = len(header)
        # Index lookups instead of DictReader (several microseconds a row); a column the
        # header lacks points at the blank cell appended past the row's end.
        at = {name: header.index(name) if name in header else width for name in KNOWN_COLUMNS}
        signals = [(name, at[name]) for name in SIGNAL_COLUMNS if name in header]
        extra = [(i, name) for i, name in enumerate(header) if name not in KNOWN_COLUMNS]

        def parsed() -> Iterator[tuple[int, KnownRecord | RecordError]]:
            for row in reader:
                try:
                    if len(row) > width:
                        raise ValueError("more fields than the header names")
                    row.extend([""] * (width + 1 - len(row)))
                    record = self._record(row, at, signals, extra)
                except ValueError as exc:
                    yield reader.line_num, RecordError(reader.line_num, str(exc))
                    continue
                yield reader.line_num, record

        yield from grouped_items(parsed())

    def _record(
        self, row: list[str], at: dict[str, int], signal_columns: list[tuple[str, int]],
        extra_columns: list[tuple[int, str]],
    ) -> KnownRecord:
        media_id = row[at["media_id"]].strip()
        if not media_id:
            raise ValueError("media_id is empty")
        signals = {
            name: normalize_hash(name, value)
            for name, i in signal_columns
            if (value := row[i].strip())
        }
        if not signals:
            raise ValueError("no hash: give at least one of md5, sha1, sha256, pdq, vpdq")
        tags = row[at["tags"]]
        return KnownRecord(
            media_id=media_id,
            signals=signals,
            category=parse_category(row[at["category"]]),
            series=row[at["series"]].strip() or None,
            victim_identified=parse_bool(row[at["victim_identified"]]),
            offender_identified=parse_bool(row[at["offender_identified"]]),
            distributed=parse_bool(row[at["distributed"]]),
            tags=[t for t in tags.split("|") if t] if tags else [],
            extra={name: row[i] for i, name in extra_columns if row[i] != ""},
        )

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        rows = [self._row(r) for r in records]
        extra_columns = sorted({k for row in rows for k in row} - set(KNOWN_COLUMNS))
        # the vpdq column only when a video is written: picture lists keep their columns
        known = [c for c in KNOWN_COLUMNS if c != "vpdq" or any(r.get("vpdq") for r in rows)]
        writer = csv.DictWriter(stream, fieldnames=[*known, *extra_columns],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    def _row(self, record: KnownRecord) -> dict[str, str]:
        row = {
            "media_id": record.media_id,
            **{name: record.signals.get(name, "") for name in SIGNAL_COLUMNS},
            "category": "" if record.category is None else str(record.category),
            "series": record.series or "",
            "victim_identified": _bool_text(record.victim_identified),
            "offender_identified": _bool_text(record.offender_identified),
            "distributed": _bool_text(record.distributed),
            "tags": "|".join(record.tags),
        }
        for key, value in record.extra.items():
            row[key] = value if isinstance(value, str) else json.dumps(value)
        return row
