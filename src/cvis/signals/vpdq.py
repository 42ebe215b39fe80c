"""vPDQ: a known video's frame hashes as one value, in python-threatexchange's form.

A value is the signal string python-threatexchange and HMA exchange for ``vpdq``: a JSON list
of ``"pdq_hex,quality,timestamp"`` strings, one per sampled frame. cvis may add the frame
number as a fourth field (``"pdq_hex,quality,timestamp,frame"``) when the source gave one
(vpdq's own hash files do), so a vpdq file read and written again keeps it; the HMA writer
drops it, as threatexchange reads exactly three fields.

In the store a value is kept as one row per frame (a video's frames do not fit one column),
and each frame of quality 50 or more is looked up in the PDQ index, so a single close frame
proposes the known video; the video-level decision is ``cvis.identify.video_match``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cvis.signals.base import InvalidSignalValue, SignalType

VPDQ_QUALITY = 50  # vPDQ drops frames below this quality when matching
# A set's video thresholds, in percent, and their defaults: a seized video matches a known one
# when the share of its moments found in the known video reaches vpdq_query, or the share of
# the known video's frames found in it reaches vpdq_compared.
VIDEO_THRESHOLDS = {"vpdq_query": 80, "vpdq_compared": 50}
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class VpdqFrame:
    """One sampled frame: its PDQ, quality (0-100), time in seconds and, if known, number."""

    hash: str
    quality: int
    timestamp: float
    frame_number: int | None = None

    def compact(self) -> str:
        """threatexchange's compact feature (timestamp to the millisecond), plus the number."""
        text = f"{self.hash},{self.quality},{self.timestamp:.3f}"
        return text if self.frame_number is None else f"{text},{self.frame_number}"

    @classmethod
    def from_compact(cls, text: str) -> VpdqFrame:
        parts = [p.strip() for p in str(text).split(",")]
        if len(parts) not in (3, 4):
            raise InvalidSignalValue(f"a vpdq frame is 'pdq,quality,timestamp', got {text!r}")
        frame = int(parts[3]) if len(parts) == 4 else None
        return checked_frame(parts[0], parts[1], parts[2], frame)


def checked_frame(value: str, quality: object, timestamp: object,
                  frame_number: int | None = None) -> VpdqFrame:
    """A frame whose fields are each within bounds (the one check for every source)."""
    pdq = str(value).strip().lower()
    try:
        level, at = int(str(quality)), float(str(timestamp))
    except ValueError:
        raise InvalidSignalValue(
            f"vpdq quality and timestamp must be numbers: {quality!r}, {timestamp!r}") from None
    if not _HEX.fullmatch(pdq):
        raise InvalidSignalValue(f"a vpdq frame's pdq must be 64 hex characters, got {value!r}")
    if not 0 <= level <= 100:
        raise InvalidSignalValue(f"vpdq quality must be 0-100, got {quality!r}")
    if not math.isfinite(at) or at < 0:
        raise InvalidSignalValue(f"vpdq timestamp must be 0 or more seconds, got {timestamp!r}")
    if frame_number is not None and frame_number < 0:
        raise InvalidSignalValue(f"vpdq frame number must be 0 or more, got {frame_number}")
    return VpdqFrame(pdq, level, round(at, 3), frame_number)


def frames_value(frames: Sequence[VpdqFrame]) -> str:
    """The canonical value for these frames (json.dumps of the compact strings)."""
    if not frames:
        raise InvalidSignalValue("a vpdq value needs at least one frame")
    return json.dumps([f.compact() for f in frames])


def parse_frames(value: str) -> list[VpdqFrame]:
    """The frames of a vpdq value (any case, spacing or timestamp precision)."""
    try:
        items = json.loads(value)
    except (ValueError, TypeError):
        raise InvalidSignalValue("a vpdq value is a JSON list of 'pdq,quality,timestamp' "
                                 f"strings, got {str(value)[:80]!r}") from None
    if not isinstance(items, list) or not items:
        raise InvalidSignalValue("a vpdq value is a non-empty JSON list of frames")
    return [VpdqFrame.from_compact(item) for item in items]


class VpdqSignal(SignalType):
    """A whole video's frame hashes. Exact at the level of a value; videos are matched by the
    share of frames that agree (thresholds ``vpdq_query`` and ``vpdq_compared`` per set)."""

    name = "vpdq"
    media_kinds = frozenset({"video"})
    examples = (
        frames_value([
            VpdqFrame("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
                      100, 0.0),
            VpdqFrame("30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af",
                      87, 1.0),
        ]),
        frames_value([VpdqFrame("0" * 64, 0, 0.0, 0)]),
    )

    @classmethod
    def validate(cls, value: str) -> str:
        return frames_value(parse_frames(str(value).strip().lower()))

    @classmethod
    def stored_values(cls, value: str) -> list[str]:
        return [frame.compact() for frame in parse_frames(value)]

    @classmethod
    def from_stored(cls, values: Sequence[str]) -> str:
        return json.dumps(list(values))

    @classmethod
    def index_name(cls) -> str:
        return "pdq"

    @classmethod
    def index_entry(cls, stored: str) -> tuple[str, str] | None:
        """Each usable frame goes into the PDQ index: one close frame proposes the video."""
        frame = VpdqFrame.from_compact(stored)
        return ("pdq", frame.hash) if frame.quality >= VPDQ_QUALITY else None
