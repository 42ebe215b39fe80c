"""A seized video against a known video, as videos: the share of frames that match each way.

Frame-by-frame matching reports a known video as soon as one frame is close, so two unrelated
clips that end with the same app end-card as a known clip were reported as that clip. Here the
frame matches found by the index only *propose* known videos; each proposal is then compared
whole, as Meta's vPDQ does: the share of the seized video's sampled moments that match some
frame of the known video (query), and the share of the known video's frames matched by the
seized one (compared). A match needs most of the seized video (an excerpt, a re-encode) or
most of the known video (a copy inside a longer compilation), each threshold settable per set
(``vpdq_query``, ``vpdq_compared``), and at least a few seconds of the known video: a shared
end-card, intro or logo is a few frames of each and makes no match on its own.

A known frame that also occurs in several unrelated known media (an app's end-card, a
broadcaster's logo, a black frame with a caption) is *common*: it weighs nothing, on either
side. Known media are unrelated to the video when they share under 80 % of its frames (a
re-encoded copy of the same video in another set is related, and does not make its frames
common). The result is one candidate per (seized video, known video) with both figures, the
matching time ranges in both, and how many common known frames were set aside.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashing import HashRecord
from cvis.identify.matcher import MatchResult, Query
from cvis.signals.vpdq import VIDEO_THRESHOLDS, VpdqFrame, VpdqSignal
from cvis.store.models import HashSet, KnownMedia, KnownSignal

if TYPE_CHECKING:
    from cvis.identify.matcher import Matcher

# Most of the seized video is the known one (excerpts, re-encodes), or most of the known video
# is inside the seized one (compilations); each settable per set.
QUERY_PERCENT = float(VIDEO_THRESHOLDS["vpdq_query"])
COMPARED_PERCENT = float(VIDEO_THRESHOLDS["vpdq_compared"])
# A match covers at least this many known frames (seconds, at one a second), or the whole
# known video when it is shorter: a shared intro or end-card of a second or two never suffices.
MIN_MATCHED_FRAMES = 3
# Frames within this many bits agree. Looser than the index's 31 (which still has to propose
# the known video through one close frame): the decision rests on most frames agreeing, not on
# one, and re-encoded low-detail frames drift past 31 (sky, dark scenes).
FRAME_DISTANCE = 45
# Once enough frames agree on where the seized video sits in the known one, the frames at that
# place may differ more (PDQ's widest set threshold): unrelated frames lie near 128 bits apart.
ALIGNED_DISTANCE = 63
FRAME_QUALITY = 50
# A known frame found in this many unrelated known media besides its own video is common.
COMMON_IN_OTHERS = 3
RELATED_SHARE = 0.8  # known media sharing this share of a video's frames are copies of it
_FRAME_KIND = re.compile(r"^frame@(\d+(?:\.\d+)?)s(?:/.*)?$")


@dataclasses.dataclass(frozen=True)
class VideoThresholds:
    """A set's video thresholds, in percent (either figure reaching its threshold will do)."""

    query_percent: float = QUERY_PERCENT
    compared_percent: float = COMPARED_PERCENT

    @classmethod
    def of(cls, hash_set: HashSet | None) -> VideoThresholds:
        chosen = (hash_set.thresholds or {}) if hash_set is not None else {}
        return cls(float(chosen.get("vpdq_query", QUERY_PERCENT)),
                   float(chosen.get("vpdq_compared", COMPARED_PERCENT)))


@dataclasses.dataclass(frozen=True)
class VideoFigures:
    query_match_percent: float
    compared_match_percent: float
    query_ranges: list[list[float]]
    compared_ranges: list[list[float]]
    common_frames_ignored: int
    matched_known_frames: int
    known_frames: int

    def accepted(self, thresholds: VideoThresholds | None = None) -> bool:
        limits = thresholds or VideoThresholds()
        enough = self.matched_known_frames >= min(MIN_MATCHED_FRAMES, self.known_frames)
        return enough and self.matched_known_frames > 0 and (
            self.query_match_percent >= limits.query_percent
            or self.compared_match_percent >= limits.compared_percent)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["matched_known_frames"], data["known_frames"]
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


def usable(frames: Sequence[VpdqFrame]) -> list[VpdqFrame]:
    """vPDQ's filter: frames of quality 50 or more, each distinct hash once."""
    seen: set[str] = set()
    kept = []
    for frame in frames:
        if frame.quality >= FRAME_QUALITY and frame.hash not in seen:
            seen.add(frame.hash)
            kept.append(frame)
    return kept


def _distances(query: Sequence[str], known: Sequence[str]) -> np.ndarray:
    if not query or not known:
        return np.full((len(query), len(known)), 256, dtype=np.int64)
    return np.bitwise_count(_words(query)[:, None, :] ^ _words(known)[None, :, :]).sum(axis=2)


def _per_moment(owners: np.ndarray, moments: int, distances: np.ndarray) -> np.ndarray:
    """The nearest of each moment's hashes (the frame, its mirrors, its trimmed picture)."""
    nearest = np.full((moments, distances.shape[1]), 256, dtype=np.int64)
    if len(owners):
        np.minimum.at(nearest, owners, distances)
    return nearest


def _aligned(nearest: np.ndarray, strong: np.ndarray, times: Sequence[float],
             known_times: Sequence[float]) -> np.ndarray:
    """Moment and known frame pairs at the same place in both videos once the strong matches
    agree on a time offset, within ALIGNED_DISTANCE: a heavily compressed copy's flat, dark or
    sky frames drift past FRAME_DISTANCE, but not at the moment the alignment says they show."""
    pairs = np.argwhere(strong)
    if len({j for _, j in pairs}) < MIN_MATCHED_FRAMES:
        return np.zeros_like(strong)
    offsets = Counter(round(times[i] - known_times[j], 1) for i, j in pairs)
    offset = offsets.most_common(1)[0][0]
    step = float(np.median(np.diff(known_times))) if len(known_times) > 1 else 1.0
    gap = np.abs(np.subtract.outer(np.asarray(times) - offset, np.asarray(known_times)))
    return np.asarray((gap <= 0.75 * step) & (nearest <= ALIGNED_DISTANCE))


def compare(
    seized: dict[float, list[str]], known: Sequence[VpdqFrame],
    common: frozenset[int] = frozenset(),
) -> VideoFigures:
    """vPDQ's two figures, the seized side's moments matched through any of their hashes; the
    known frames at the positions in ``common`` (and seized moments that match only those)
    count on neither side."""
    moments = sorted(seized)
    owners = np.array([i for i, t in enumerate(moments) for _ in seized[t]], dtype=int)
    hashes = [h for t in moments for h in seized[t]]
    kept = [f for i, f in enumerate(known) if i not in common]
    shared = [f.hash for i, f in enumerate(known) if i in common]
    nearest = _per_moment(owners, len(moments), _distances(hashes, [f.hash for f in kept]))
    strong = nearest <= FRAME_DISTANCE
    close = strong | _aligned(nearest, strong, moments, [f.timestamp for f in kept])
    matched = {moments[i] for i in np.flatnonzero(close.any(axis=1))}
    to_common = _per_moment(owners, len(moments), _distances(hashes, shared)) <= FRAME_DISTANCE
    only_common = {moments[i] for i in np.flatnonzero(to_common.any(axis=1))} - matched
    counted = len(moments) - len(only_common)
    matched_known = np.flatnonzero(close.any(axis=0))
    step = float(np.median(np.diff([f.timestamp for f in known]))) if len(known) > 1 else 1.0
    return VideoFigures(
        round(100.0 * len(matched) / counted, 1) if counted else 0.0,
        round(100.0 * len(matched_known) / len(kept), 1) if kept else 0.0,
        _ranges(sorted(matched)),
        _ranges([kept[i].timestamp for i in matched_known], gap=max(1.5, 1.5 * step)),
        len(shared),
        len(matched_known),
        len(kept),
    )


def known_video_frames(session: Session, media_pks: set[int]) -> dict[int, list[VpdqFrame]]:
    """The usable frames of those known media that are videos, in frame order: their vPDQ
    value, or (items stored before vPDQ values) their PDQ rows at one a second."""
    if not media_pks:
        return {}
    stored: dict[int, list[str]] = defaultdict(list)
    for pk, value in session.execute(
        select(KnownSignal.media_pk, KnownSignal.value)
        .where(KnownSignal.media_pk.in_(media_pks), KnownSignal.signal_type == VpdqSignal.name)
        .order_by(KnownSignal.media_pk, KnownSignal.id)
    ):
        stored[pk].append(value)
    frames = {pk: usable([VpdqFrame.from_compact(v) for v in values])
              for pk, values in stored.items()}
    frames.update(_older_videos(session, media_pks - set(frames)))
    return {pk: found for pk, found in frames.items() if found}


def _older_videos(session: Session, media_pks: set[int]) -> dict[int, list[VpdqFrame]]:
    videos = {
        pk for pk, extra in session.execute(
            select(KnownMedia.id, KnownMedia.extra).where(KnownMedia.id.in_(media_pks))
        ) if (extra or {}).get("kind") == "video"
    }
    frames: dict[int, list[VpdqFrame]] = defaultdict(list)
    if videos:
        for pk, value in session.execute(
            select(KnownSignal.media_pk, KnownSignal.value)
            .where(KnownSignal.media_pk.in_(videos), KnownSignal.signal_type == "pdq")
            .order_by(KnownSignal.media_pk, KnownSignal.id)
        ):
            frames[pk].append(VpdqFrame(value, 100, float(len(frames[pk]))))
    return dict(frames)


def common_frames(matcher: Matcher, pk: int, frames: Sequence[VpdqFrame]) -> frozenset[int]:
    """Positions of the known video's frames that also occur in COMMON_IN_OTHERS or more known
    media unrelated to it (worked out once per matcher and video)."""
    if pk in matcher.common_frames:
        return matcher.common_frames[pk]
    found = matcher.match([Query("pdq", f.hash, f.quality) for f in frames])
    others = [{m.known_media_pk for m in per_frame} - {pk} for per_frame in found]
    shares: dict[int, int] = defaultdict(int)
    for media in others:
        for other in media:
            shares[other] += 1
    unrelated = {o for o, n in shares.items() if n < RELATED_SHARE * len(frames)}
    common = frozenset(i for i, media in enumerate(others)
                       if len(media & unrelated) >= COMMON_IN_OTHERS)
    matcher.common_frames[pk] = common
    return common


def as_video_matches(
    matcher: Matcher, record: HashRecord, matches: list[MatchResult]
) -> list[MatchResult]:
    """Replace a seized video's frame matches to known videos with one judged match per known
    video (signal ``vpdq``); every other match stands as it is, including a seized picture
    that matches a frame of a known video."""
    seized = seized_frames(record)
    if seized is None:
        return matches
    proposed = {m.known_media_pk for m in matches if m.signal == "pdq"}
    videos = known_video_frames(matcher.session, proposed)
    kept = [m for m in matches if not (m.signal == "pdq" and m.known_media_pk in videos)]
    for pk, known in videos.items():
        nearest = min((m for m in matches if m.known_media_pk == pk and m.signal == "pdq"),
                      key=lambda m: m.distance)
        figures = compare(seized, known, common_frames(matcher, pk, known))
        if figures.accepted(VideoThresholds.of(matcher.hash_set(nearest.set))):
            kept.append(dataclasses.replace(nearest, signal="vpdq", video=figures.to_dict()))
    return kept


def keyframe_times(ranges: Sequence[Sequence[float]], most: int = 6) -> list[float]:
    """Moments to show for matching ranges (review's keyframe strip): each range's start, and
    its end when it lasts, the first ranges first, at most ``most``."""
    times: list[float] = []
    for start, end in ranges:
        times += [start, end] if end > start else [start]
    return [round(t, 1) for t in times[:most]]


def spans(ranges: Sequence[Sequence[float]]) -> str:
    """[[0.0, 10.0], [12.0, 12.0]] as '0-10 s, 12 s'."""
    return ", ".join(f"{a:g} s" if a == b else f"{a:g}-{b:g} s" for a, b in ranges) or "none"
