"""cvis's own CSV: one row per known media item, named columns, extra columns kept."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import KnownRecord, RecordError, parse_bool, parse_category
from cvis.signals import normalize

SIGNAL_COLUMNS = ("md5", "sha1", "sha256", "pdq")
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

    @classmethod
    def sniff(cls, head: str) -> bool:
        first = head.splitlines()[0].lower() if head else ""
        return "media_id" in first.split(",")

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        reader = csv.DictReader(stream)
        if not reader.fieldnames or "media_id" not in reader.fieldnames:
            yield RecordError(1, "header must name a media_id column")
            return
        for row in reader:
            try:
                yield self._record(row)
            except ValueError as exc:
                yield RecordError(reader.line_num, str(exc))

    def _record(self, row: dict[str, str | None]) -> KnownRecord:
        if None in row:
            raise ValueError("more fields than the header names")
        media_id = (row.get("media_id") or "").strip()
        if not media_id:
            raise ValueError("media_id is empty")
        signals = {
            name: normalize(name, value)
            for name in SIGNAL_COLUMNS
            if (value := (row.get(name) or "").strip())
        }
        if not signals:
            raise ValueError("no hash: give at least one of md5, sha1, sha256, pdq")
        tags = [t for t in (row.get("tags") or "").split("|") if t]
        return KnownRecord(
            media_id=media_id,
            signals=signals,
            category=parse_category(row.get("category")),
            series=(row.get("series") or "").strip() or None,
            victim_identified=parse_bool(row.get("victim_identified")),
            offender_identified=parse_bool(row.get("offender_identified")),
            distributed=parse_bool(row.get("distributed")),
            tags=tags,
            extra={k: v for k, v in row.items() if k not in KNOWN_COLUMNS and v not in (None, "")},
        )

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        rows = [self._row(r) for r in records]
        extra_columns = sorted({k for row in rows for k in row} - set(KNOWN_COLUMNS))
        writer = csv.DictWriter(stream, fieldnames=[*KNOWN_COLUMNS, *extra_columns])
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
