"""vPDQ hash files as Meta's vpdq writes them: one line per sampled frame,
``frame_number,quality,pdq_hex,timestamp`` (timestamp in seconds, three decimals).

vpdq writes one video per file. A file of several videos marks where each begins with a
comment line ``# vpdq media_id=ID`` (cvis writes one before each video, so every block is
exactly a vpdq file); a file without one is one video, named after the file. Only videos are
written (items without a vPDQ value are left out); read, each video keeps every frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import KnownRecord, RecordError
from cvis.signals.base import InvalidSignalValue
from cvis.signals.vpdq import VpdqFrame, checked_frame, frames_value, parse_frames

MARK = "# vpdq media_id="
_LINE = re.compile(r"^\d+,\d+,[0-9a-fA-F]{64},\d+(\.\d+)?$")


class VpdqFileFormat(HashListFormat):
    name = "vpdq"
    description = "vPDQ hash file (frame,quality,pdq,timestamp per line; '# vpdq media_id=ID')"

    @classmethod
    def sniff(cls, head: str) -> bool:
        first = next((line.strip() for line in head.lstrip("\ufeff").splitlines()
                      if line.strip()), "")
        return first.startswith(MARK) or bool(_LINE.match(first))

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        media_id = Path(str(getattr(stream, "name", "") or "video")).stem or "video"
        frames: list[VpdqFrame] = []
        broken: RecordError | None = None
        start = 1
        for number, raw in enumerate(stream, start=1):
            line = raw.strip().lstrip("\ufeff")
            if line.startswith(MARK):
                if frames or broken:
                    yield broken or _video(media_id, frames, start)
                media_id, frames, broken, start = line[len(MARK):].strip(), [], None, number
                if not media_id:
                    broken = RecordError(number, "'# vpdq media_id=' names no media id")
            elif line and not line.startswith("#"):
                try:
                    frames.append(_frame(line))
                except (InvalidSignalValue, ValueError) as exc:
                    broken = broken or RecordError(number, str(exc))  # the video is refused whole
        if frames or broken:
            yield broken or _video(media_id, frames, start)

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        for record in records:
            value = record.signals.get("vpdq")
            if record.deleted or value is None:
                continue
            stream.write(f"{MARK}{record.media_id}\n")
            for position, frame in enumerate(parse_frames(value)):
                number = position if frame.frame_number is None else frame.frame_number
                stream.write(f"{number},{frame.quality},{frame.hash},{frame.timestamp:.3f}\n")


def _frame(line: str) -> VpdqFrame:
    parts = line.split(",")
    if len(parts) != 4:
        raise ValueError(f"a vpdq line is 'frame,quality,pdq,timestamp', got {line[:100]!r}")
    number, quality, value, timestamp = (p.strip() for p in parts)
    if not number.isdigit():
        raise ValueError(f"frame number must be a whole number, got {number!r}")
    return checked_frame(value, quality, timestamp, int(number))


def _video(media_id: str, frames: list[VpdqFrame], line: int) -> KnownRecord | RecordError:
    if not frames:
        return RecordError(line, f"video {media_id!r} has no frames")
    return KnownRecord(media_id=media_id, signals={"vpdq": frames_value(frames)})
