"""Video signals compatible with Meta's vPDQ: PDQ of sampled frames, and vPDQ's matching.

Frames are decoded with PyAV (FFmpeg's libraries inside the wheel; no system
ffmpeg). As in vPDQ's ``hashVideoFile``, frame n (in output order) is hashed
when ``n % int(seconds_per_hash * average_fps) == 0`` and stamped ``n / fps``,
at the video's own resolution in RGB. Consecutive frames within
``collapse_distance`` bits of the last kept one are dropped (a still scene
yields one hash, not one a second). Matching follows vPDQ's brute matcher:
drop exact duplicates and low-quality frames on each side, then report the
share of query frames that have a match in the known video and the share of
the known video's frames that have one in the query.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import av
import numpy as np

from cvis.signals import pdqcore
from cvis.signals.crypto import CryptoDigests, digest_stream

SECONDS_PER_HASH = 1.0
COLLAPSE_DISTANCE = 4
VPDQ_DISTANCE = 31
VPDQ_QUALITY = 50
VideoSource = str | os.PathLike[str] | BinaryIO


class VideoDecodeError(ValueError):
    """Bytes that PyAV cannot read as a video with a video stream."""


@dataclass(frozen=True)
class FrameHash:
    hash: str
    quality: int
    timestamp: float
    frame_number: int
    contrast_quality: int = 0

    def to_vpdq(self) -> str:
        """threatexchange's compact vPDQ feature: 'hex,quality,timestamp'."""
        return f"{self.hash},{self.quality},{self.timestamp:.3f}"


@dataclass(frozen=True)
class VideoSignals:
    frames: tuple[FrameHash, ...]
    digests: CryptoDigests | None
    fps: float
    duration: float
    width: int
    height: int
    frames_decoded: int

    @property
    def md5(self) -> str | None:
        return self.digests.md5 if self.digests else None


@dataclass(frozen=True)
class VideoMatch:
    """vPDQ's two figures, in percent."""

    query_match_percent: float
    known_match_percent: float


@dataclass(frozen=True)
class VideoMatchPolicy:
    """Per-hash-set thresholds; the defaults are threatexchange's vPDQ defaults."""

    query_match_percent: float = 80.0
    known_match_percent: float = 0.0
    distance: int = VPDQ_DISTANCE
    quality: int = VPDQ_QUALITY

    def accepts(self, match: VideoMatch) -> bool:
        return (
            match.query_match_percent >= self.query_match_percent
            and match.known_match_percent >= self.known_match_percent
            and match.query_match_percent > 0
        )


def hash_video(
    source: VideoSource,
    *,
    seconds_per_hash: float = SECONDS_PER_HASH,
    collapse_distance: int = COLLAPSE_DISTANCE,
    max_seconds: float | None = None,
    digests: bool = True,
) -> VideoSignals:
    """Per-frame PDQ (with quality and timestamp) and the whole-file digests."""
    found = _digests(source) if digests else None
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise VideoDecodeError("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            frames, decoded = _sample(container, stream, fps, seconds_per_hash, max_seconds)
            duration = float(container.duration or 0) / av.time_base
            size = (stream.codec_context.width, stream.codec_context.height)
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"cannot decode video: {exc}") from exc
    return VideoSignals(
        tuple(collapse(frames, collapse_distance)), found, fps, duration, *size, decoded
    )


def _digests(source: VideoSource) -> CryptoDigests:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            return digest_stream(stream)
    start = source.tell()
    result = digest_stream(source)
    source.seek(start)
    return result


def _sample(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    fps: float,
    seconds_per_hash: float,
    max_seconds: float | None,
) -> tuple[list[FrameHash], int]:
    every = max(1, int(seconds_per_hash * fps))
    last = None if max_seconds is None else int(max_seconds * fps)
    frames: list[FrameHash] = []
    number = -1
    for number, frame in enumerate(container.decode(stream)):
        if last is not None and number > last:
            break
        if number % every:
            continue
        found = pdqcore.pdq_float(frame.to_ndarray(format="rgb24"))
        frames.append(
            FrameHash(
                pdqcore.bits_hex(found.dct16),
                found.quality,
                number / fps,
                number,
                found.contrast_quality,
            )
        )
    return frames, number + 1


def collapse(frames: Sequence[FrameHash], distance: int) -> Iterator[FrameHash]:
    """Drop frames within ``distance`` bits of the last kept frame (negative keeps all)."""
    kept: FrameHash | None = None
    for frame in frames:
        if kept is None or _distance(kept.hash, frame.hash) > distance:
            kept = frame
            yield frame


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _words(hashes: Sequence[str]) -> np.ndarray:
    raw = bytes.fromhex("".join(hashes))
    return np.frombuffer(raw, dtype=np.uint64).reshape(-1, 4)


def _usable(frames: Sequence[FrameHash], quality: int) -> list[str]:
    """vPDQ's dedupe (exact hash) and quality filter."""
    return list(dict.fromkeys(f.hash for f in frames if f.quality >= quality))


def match_videos(
    query: Sequence[FrameHash],
    known: Sequence[FrameHash],
    policy: VideoMatchPolicy | None = None,
) -> VideoMatch:
    """vPDQ's brute-force figures for two frame-hash lists."""
    policy = policy or VideoMatchPolicy()
    q, k = _usable(query, policy.quality), _usable(known, policy.quality)
    if not q or not k:
        return VideoMatch(0.0, 0.0)
    dist = np.bitwise_count(_words(q)[:, None, :] ^ _words(k)[None, :, :]).sum(axis=2)
    close = dist <= policy.distance
    return VideoMatch(
        100.0 * float(close.any(axis=1).sum()) / len(q),
        100.0 * float(close.any(axis=0).sum()) / len(k),
    )


def frames_matching_image(
    image_hash: str, frames: Sequence[FrameHash], *, distance: int = VPDQ_DISTANCE
) -> list[FrameHash]:
    """Frames of a video that show a known image (its PDQ within ``distance``)."""
    return [f for f in frames if _distance(image_hash, f.hash) <= distance]


def to_vpdq_json(frames: Sequence[FrameHash]) -> str:
    """threatexchange's vPDQ signal string: a JSON list of 'hex,quality,timestamp'."""
    return json.dumps([f.to_vpdq() for f in frames])


def from_vpdq_json(text: str) -> list[FrameHash]:
    """Read threatexchange's vPDQ signal string (frame numbers are not kept there: -1)."""
    frames = []
    for item in json.loads(text or "[]"):
        value, quality, timestamp = item.split(",")
        frames.append(FrameHash(value.lower(), int(quality), float(timestamp), -1))
    return frames
