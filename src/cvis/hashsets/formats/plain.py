"""Plain lists: one hash per line; the type is told by length (64 hex is sha256 unless named).

``pdq:<hex>`` names the type on a line; a ``# signal: pdq`` line names it for the lines after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import KnownRecord, RecordError, normalize_hash
from cvis.signals import guess_crypto_signal
from cvis.signals.vpdq import parse_frames

HEX_LINE = re.compile(r"^([a-z0-9_]+:)?[0-9a-fA-F]{32,64}\s*$")
DIRECTIVE = re.compile(r"^#\s*signal:\s*(\w+)\s*$", re.IGNORECASE)


class PlainListFormat(HashListFormat):
    name = "plain"
    description = "One md5, sha1, sha256 or PDQ per line (pdq:<hex> or '# signal: pdq')"

    @classmethod
    def sniff(cls, head: str) -> bool:
        lines = [ln.strip() for ln in head.splitlines()[:20] if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("#")]
        return bool(lines) and all(HEX_LINE.match(ln) for ln in lines[:-1] or lines)

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        default: str | None = None
        for number, raw in enumerate(stream, start=1):
            text = raw.strip()
            if not text:
                continue
            if text.startswith("#"):
                if directive := DIRECTIVE.match(text):
                    default = directive.group(1).lower()
                continue
            try:
                kind, _, value = text.rpartition(":")
                kind = kind or default or guess_crypto_signal(value)
                value = normalize_hash(kind, value)
            except ValueError as exc:
                yield RecordError(number, str(exc))
                continue
            yield KnownRecord(media_id=value, signals={kind: value})

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        for record in records:
            if record.deleted:
                continue
            for kind, value in record.signals.items():
                if kind == "vpdq":  # a plain list has no items: a video is its frames' PDQs
                    stream.writelines(f"pdq:{f.hash}\n" for f in parse_frames(value))
                    continue
                stream.write(f"{kind}:{value}\n" if kind == "pdq" else f"{value}\n")
