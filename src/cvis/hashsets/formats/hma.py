"""HMA / ThreatExchange CSV: one row per signal (``signal_type,signal_value``), then metadata.

Rows of one media item share a ``media_id`` and sit together; a file without media ids
(the bare ``pdq,<hash>`` lists HMA banks exchange) makes each hash its own item. A video comes
as one ``vpdq`` row (threatexchange's signal string: a JSON list of 'pdq,quality,timestamp'),
or as several ``pdq`` rows of one media id (its frames, kept whole as one vPDQ value; see
``records.ItemRows``); two different values of another signal for one media id refuse it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import (
    KnownRecord,
    RecordError,
    grouped_items,
    normalize_hash,
    parse_bool,
    parse_category,
)
from cvis.signals import SIGNAL_TYPES
from cvis.signals.vpdq import parse_frames

HEADER = ("signal_type", "signal_value", "media_id", "category", "series",
          "victim_identified", "offender_identified", "distributed", "tags")


class HmaCsvFormat(HashListFormat):
    name = "hma"
    description = "HMA / ThreatExchange CSV: signal_type,signal_value[,media_id,metadata...]"

    @classmethod
    def sniff(cls, head: str) -> bool:
        first = head.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
        if first.startswith("signal_type,"):
            return True
        kind = first.split(",", 1)[0]
        return "," in first and kind in SIGNAL_TYPES

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        return grouped_items(self._read_rows(stream))

    def _read_rows(self, stream: TextIO) -> Iterator[tuple[int, KnownRecord | RecordError]]:
        """(line, record or error) for each row, one hash each."""
        reader = csv.reader(stream)
        names = list(HEADER)
        for row in reader:
            if reader.line_num == 1 and row and row[0].strip().lower() == "signal_type":
                names = [n.strip() for n in row]
                continue
            if not row:
                continue
            try:
                yield reader.line_num, self._record(dict(zip(names, row, strict=False)),
                                                    len(row) > len(names))
            except ValueError as exc:
                yield reader.line_num, RecordError(reader.line_num, str(exc))

    def _record(self, row: dict[str, str], too_long: bool) -> KnownRecord:
        if too_long:
            raise ValueError("more fields than the header names")
        kind = (row.get("signal_type") or "").strip().lower()
        value = normalize_hash(kind, row.get("signal_value") or "")
        extra: dict[str, Any] = {k: v for k, v in row.items() if k not in HEADER and v != ""}
        return KnownRecord(
            media_id=(row.get("media_id") or "").strip() or value,
            signals={kind: value},
            category=parse_category(row.get("category")),
            series=(row.get("series") or "").strip() or None,
            victim_identified=parse_bool(row.get("victim_identified")),
            offender_identified=parse_bool(row.get("offender_identified")),
            distributed=parse_bool(row.get("distributed")),
            tags=[t for t in (row.get("tags") or "").split(" ") if t],
            extra=extra,
        )

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        rows = [row for r in records if not r.deleted for row in self._rows(r)]
        extra = sorted({k for row in rows for k in row} - set(HEADER))
        writer = csv.DictWriter(stream, fieldnames=[*HEADER, *extra], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    def _rows(self, record: KnownRecord) -> Iterator[dict[str, str]]:
        meta = {
            "media_id": record.media_id,
            "category": "" if record.category is None else str(record.category),
            "series": record.series or "",
            "victim_identified": _text(record.victim_identified),
            "offender_identified": _text(record.offender_identified),
            "distributed": _text(record.distributed),
            "tags": " ".join(record.tags),
        } | {k: v if isinstance(v, str) else json.dumps(v) for k, v in record.extra.items()}
        for kind, value in record.signals.items():
            if kind == "vpdq":  # threatexchange reads exactly 'pdq,quality,timestamp'
                value = json.dumps([replace(f, frame_number=None).compact()
                                    for f in parse_frames(value)])
            yield {"signal_type": kind, "signal_value": value} | meta


def _text(value: bool | None) -> str:
    return "" if value is None else str(value).lower()
