"""INTERPOL ICSE CSV: ``;``-separated, one row per image, unknown columns kept."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import (
    KnownRecord,
    RecordError,
    normalize_hash,
    parse_bool,
    parse_category,
)

COLUMNS = (
    "MD5", "SHA1", "PhotoDNA", "Image ID", "Is distributed", "Victim identified",
    "Offender identified", "Series name", "Number of submissions", "File Available",
    "Media Type", "Baseline",
)
# Not in ICSE's header, but written (and read back) when a record carries them.
OPTIONAL_SIGNALS = (("SHA256", "sha256"), ("PDQ", "pdq"))
MAPPED = {"MD5", "SHA1", "SHA256", "PDQ", "Category", "Image ID", "Is distributed",
          "Victim identified",
          "Offender identified", "Series name"}


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


class IcseFormat(HashListFormat):
    name = "icse"
    description = "INTERPOL ICSE CSV (MD5;SHA1;PhotoDNA;Image ID;...)"

    @classmethod
    def sniff(cls, head: str) -> bool:
        first = head.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
        return first.startswith("md5;sha1;")

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        reader = csv.DictReader(stream, delimiter=";")
        if not reader.fieldnames or not {"MD5", "SHA1"} <= set(reader.fieldnames):
            yield RecordError(1, "header must start MD5;SHA1;...")
            return
        for row in reader:
            try:
                yield self._record(row)
            except ValueError as exc:
                yield RecordError(reader.line_num, str(exc))

    def _record(self, row: dict[str, str | None]) -> KnownRecord:
        if None in row:
            raise ValueError("more fields than the header names")
        signals = {
            name: normalize_hash(name, value)
            for key, name in (("MD5", "md5"), ("SHA1", "sha1"), *OPTIONAL_SIGNALS)
            if (value := (row.get(key) or "").strip())
        }
        if not signals:
            raise ValueError("no hash: give MD5 or SHA1")
        media_id = (row.get("Image ID") or "").strip() or next(iter(signals.values()))
        return KnownRecord(
            media_id=media_id,
            signals=signals,
            category=parse_category(row.get("Category")),
            series=(row.get("Series name") or "").strip() or None,
            victim_identified=parse_bool(row.get("Victim identified")),
            offender_identified=parse_bool(row.get("Offender identified")),
            distributed=parse_bool(row.get("Is distributed")),
            extra={k: v for k, v in row.items() if k not in MAPPED and v not in (None, "")},
        )

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        rows = [self._row(r) for r in records if not r.deleted]
        extra = sorted({k for row in rows for k in row} - set(COLUMNS))
        writer = csv.DictWriter(stream, fieldnames=[*COLUMNS, *extra], delimiter=";",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    def _row(self, record: KnownRecord) -> dict[str, str]:
        optional = {key: record.signals[name] for key, name in OPTIONAL_SIGNALS
                    if name in record.signals}
        if record.category is not None:
            optional["Category"] = str(record.category)
        return {
            "MD5": record.signals.get("md5", "").upper(),
            "SHA1": record.signals.get("sha1", "").upper(),
            "Image ID": record.media_id,
            "Is distributed": _yes_no(record.distributed),
            "Victim identified": _yes_no(record.victim_identified),
            "Offender identified": _yes_no(record.offender_identified),
            "Series name": record.series or "",
        } | optional | {k: str(v) for k, v in record.extra.items()}
