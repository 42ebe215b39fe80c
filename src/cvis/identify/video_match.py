"""A seized video against a known video, as videos: the share of frames that match each way.

Frame-by-frame matching reports a known video as soon as one frame is close, so two unrelated
clips that end with the same app end-card as a known clip were reported as that clip. Here the
frame matches found by the index only *propose* known videos; each proposal is then compared
whole, as Meta's vPDQ does: the share of the seized video's sampled moments that match some
frame of the known video (query), and the share of the known video's frames matched by the
seized one (compared). A match needs most of the seized video (an excerpt, a re-encode) or
most of the known video (a copy inside a longer compilation); a shared end-card, intro or
logo is a few frames of each and makes no match on its own. The result is one candidate per
(seized video, known video) with both figures and the matching time ranges in both.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashing import HashRecord
from cvis.identify.matcher import MatchResult
from cvis.store.models import KnownMedia, KnownSignal

QUERY_PERCENT = 80.0  # most of the seized video is the known one (excerpts, re-encodes)
COMPARED_PERCENT = 50.0  # or most of the known video is inside the seized one (compilations)
MIN_MATCHED_FRAMES = 2
# Frames within this many bits agree. Looser than the index's 31 (which still has to propose
# the known video through one close frame): the decision rests on most frames agreeing, not on
# one, and re-encoded low-detail frames drift past 31 (sky, dark scenes).
FRAME_DISTANCE = 45
FRAME_QUALITY = 50
SECONDS_PER_KNOWN_FRAME = 1.0  # known videos are hashed one frame a second
_FRAME_KIND = re.compile(r"^frame@(\d+(?:\.\d+)?)s(?:/.*)?$")


@dataclasses.dataclass(frozen=True)
class VideoFigures:
    query_match_percent: float
    compared_match_percent: float
    query_ranges: list[list[float]]
    compared_ranges: list[list[float]]
    matched_known_frames: int

    def accepted(self, known_frames: int) -> bool:
        enough = self.matched_known_frames >= min(MIN_MATCHED_FRAMES, known_frames)
        return enough and (self.query_match_percent >= QUERY_PERCENT
                           or self.compared_match_percent >= COMPARED_PERCENT)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["matched_known_frames"]
        return data


def seized_frames(record: HashRecord) -> dict[float, list[str]] | None:
    """The video's sampled moments, each with every hash looked up for it (the frame and its
    mirrored, rotated and trimmed hashes); None when the item is not a video."""
    if record.pdq is not None:
        return None
    moments: dict[float, list[str]] = defaultdict(list)
    for variant in record.pdq_variants:
        found = _FRAME_KIND.match(variant.kind)
        if found and variant.quality >= FRAME_QUALITY:
            moments[float(found.group(1))].append(variant.hash)
    return dict(moments) or None


def _words(hashes: Sequence[str]) -> np.ndarray:
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint64).reshape(-1, 4)


def _ranges(times: Sequence[float], gap: float = 1.5) -> list[list[float]]:
    """Matched moments joined into [start, end] ranges, in seconds."""
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][1] <= gap:
            out[-1][1] = t
        else:
            out.append([t, t])
    return out


def compare(seized: dict[float, list[str]], known: Sequence[str]) -> VideoFigures:
    """vPDQ's two figures, with the seized side's moments matched through any of their hashes."""
    moments = sorted(seized)
    owners = np.array([i for i, t in enumerate(moments) for _ in seized[t]])
    query = _words([h for t in moments for h in seized[t]])
    close = np.bitwise_count(query[:, None, :] ^ _words(known)[None, :, :]).sum(axis=2)
    close = close <= FRAME_DISTANCE
    matched_moments = sorted({moments[i] for i in owners[close.any(axis=1)]})
    matched_known = np.flatnonzero(close.any(axis=0))
    return VideoFigures(
        round(100.0 * len(matched_moments) / len(moments), 1),
        round(100.0 * len(matched_known) / len(known), 1),
        _ranges(matched_moments),
        _ranges([i * SECONDS_PER_KNOWN_FRAME for i in matched_known]),
        len(matched_known),
    )


def known_video_frames(session: Session, media_pks: set[int]) -> dict[int, list[str]]:
    """The frame hashes of those known media that are videos, in frame order."""
    if not media_pks:
        return {}
    videos = {
        pk for pk, extra in session.execute(
            select(KnownMedia.id, KnownMedia.extra).where(KnownMedia.id.in_(media_pks))
        ) if (extra or {}).get("kind") == "video"
    }
    frames: dict[int, list[str]] = defaultdict(list)
    if videos:
        for pk, value in session.execute(
            select(KnownSignal.media_pk, KnownSignal.value)
            .where(KnownSignal.media_pk.in_(videos), KnownSignal.signal_type == "pdq")
            .order_by(KnownSignal.media_pk, KnownSignal.id)
        ):
            frames[pk].append(value)
    return dict(frames)


def as_video_matches(
    session: Session, record: HashRecord, matches: list[MatchResult]
) -> list[MatchResult]:
    """Replace a seized video's frame matches to known videos with one judged match per known
    video (signal ``vpdq``); every other match stands as it is, including a seized picture
    that matches a frame of a known video."""
    seized = seized_frames(record)
    if seized is None:
        return matches
    proposed = {m.known_media_pk for m in matches if m.signal == "pdq"}
    videos = known_video_frames(session, proposed)
    kept = [m for m in matches if not (m.signal == "pdq" and m.known_media_pk in videos)]
    for pk, known in videos.items():
        figures = compare(seized, known)
        if not figures.accepted(len(known)):
            continue
        nearest = min((m for m in matches if m.known_media_pk == pk and m.signal == "pdq"),
                      key=lambda m: m.distance)
        kept.append(dataclasses.replace(nearest, signal="vpdq", video=figures.to_dict()))
    return kept
