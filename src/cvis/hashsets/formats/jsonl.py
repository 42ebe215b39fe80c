"""cvis JSON lines: one record per line, tombstones included; lossless, used by sync feeds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import (
    KnownRecord,
    RecordError,
    normalize_hash,
    parse_bool,
    parse_category,
    record_from_dict,
    record_to_dict,
)


class JsonLinesFormat(HashListFormat):
    name = "jsonl"
    description = "cvis JSON lines: {media_id, signals, category, ..., deleted}"

    @classmethod
    def sniff(cls, head: str) -> bool:
        return head.lstrip().startswith('{"media_id"')

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield self._record(json.loads(line))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                yield RecordError(number, f"{type(exc).__name__}: {exc}")

    def _record(self, data: dict[str, Any]) -> KnownRecord:
        record = record_from_dict(data)
        record.signals = {k: normalize_hash(k, v) for k, v in record.signals.items()}
        if not record.signals and not record.deleted:
            raise ValueError("no hash in signals")
        record.category = parse_category(record.category)
        for attr in ("victim_identified", "offender_identified", "distributed"):
            setattr(record, attr, parse_bool(getattr(record, attr)))
        return record

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        for record in records:
            stream.write(json.dumps(record_to_dict(record), ensure_ascii=False) + "\n")
