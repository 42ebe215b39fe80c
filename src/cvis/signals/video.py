"""Video signals compatible with Meta's vPDQ: PDQ of sampled frames, and vPDQ's matching.

Frames are decoded with PyAV (FFmpeg's libraries inside the wheel; no system
ffmpeg). As in vPDQ's ``hashVideoFile``, frame n (in output order) is hashed
when ``n % int(seconds_per_hash * average_fps) == 0`` and stamped ``n / fps``,
at the video's own resolution in RGB, turned upright when the stream carries a
rotation (phones store frames sideways). Only exact repeats of the last kept frame
are dropped by default: dropping near repeats once removed the only frame that a
watermarked copy matched. Each frame also yields the extra hashes the picture path
looks up (mirrored/rotated, and the picture inside letterbox bars) so that
flipped, sideways and letterboxed copies are found. Matching follows vPDQ's brute matcher:
drop exact duplicates and low-quality frames on each side, then report the
share of query frames that have a match in the known video and the share of
the known video's frames that have one in the query.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import av
import numpy as np

from cvis.signals import borders, pdqcore
from cvis.signals.crypto import CryptoDigests, digest_stream

SECONDS_PER_HASH = 1.0
COLLAPSE_DISTANCE = 0
VPDQ_DISTANCE = 31
VPDQ_QUALITY = 50
VideoSource = str | os.PathLike[str] | BinaryIO


class VideoDecodeError(ValueError):
    """Bytes that PyAV cannot read as a video with a video stream."""


class AudioOnly(VideoDecodeError):
    """A media file with sound and no picture: nothing to hash but its bytes."""


class VideoPixelLimit(VideoDecodeError):
    """The stream declares frames larger than the pixel limit (a decompression bomb)."""


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
class FrameVariant:
    """An extra hash of a sampled frame: a dihedral name ("flipx", "rotate90", ...) or
    "trimmed" (inside letterbox bars)."""

    hash: str
    quality: int
    timestamp: float
    kind: str
    contrast_quality: int = 0


@dataclass(frozen=True)
class VideoSignals:
    frames: tuple[FrameHash, ...]
    digests: CryptoDigests | None
    fps: float
    duration: float
    width: int
    height: int
    frames_decoded: int
    variants: tuple[FrameVariant, ...] = ()
    flags: tuple[str, ...] = ()

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
    max_pixels: int | None = None,
    variants: bool = True,
) -> VideoSignals:
    """Per-frame PDQ (with quality and timestamp), each frame's extra hashes, and the
    whole-file digests. Raises VideoDecodeError (AudioOnly, VideoPixelLimit) when there is
    nothing to hash; a stream that breaks off part-way is hashed as far as it goes and
    flagged."""
    found = _digests(source) if digests else None
    try:
        with av.open(source, mode="r") as container:
            stream = _video_stream(container, max_pixels)
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            sampled = _sample(container, stream, fps, seconds_per_hash, max_seconds, variants)
            duration = float(container.duration or 0) / av.time_base
            size = (stream.codec_context.width, stream.codec_context.height)
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"cannot decode video: {exc}") from exc
    flags = list(sampled.flags)
    if sampled.broke_off is None and max_seconds is None and sampled.frames:
        flags += _short_of_duration(sampled.last_time, duration, fps)
    return VideoSignals(
        tuple(collapse(sampled.frames, collapse_distance)), found, fps, duration, *size,
        sampled.decoded, tuple(sampled.variants), tuple(flags),
    )


def _video_stream(container: av.container.InputContainer, max_pixels: int | None) -> Any:
    if not container.streams.video:
        if container.streams.audio:
            raise AudioOnly("audio only: no video stream")
        raise VideoDecodeError("no video stream")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if max_pixels is not None and width * height > max_pixels:
        raise VideoPixelLimit(
            f"frames of {width}x{height} exceed the limit of {max_pixels:,} pixels"
        )
    stream.thread_type = "AUTO"
    return stream


def _short_of_duration(last_time: float, duration: float, fps: float) -> list[str]:
    """A file whose frames end well before the length its container declares was cut."""
    if duration > 0 and last_time + max(1.0, 2 / fps) < 0.9 * duration:
        return [f"truncated: frames end at {last_time:.1f} s of {duration:.1f} s declared"]
    return []


def _digests(source: VideoSource) -> CryptoDigests:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            return digest_stream(stream)
    start = source.tell()
    result = digest_stream(source)
    source.seek(start)
    return result


@dataclass
class _Sampled:
    frames: list[FrameHash] = field(default_factory=list)
    variants: list[FrameVariant] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    decoded: int = 0
    last_time: float = 0.0
    broke_off: str | None = None


def _sample(
    container: av.container.InputContainer,
    stream: Any,
    fps: float,
    seconds_per_hash: float,
    max_seconds: float | None,
    variants: bool,
) -> _Sampled:
    every = max(1, int(seconds_per_hash * fps))
    last = None if max_seconds is None else int(max_seconds * fps)
    out = _Sampled()
    number = -1
    try:
        for number, frame in enumerate(container.decode(stream)):
            if last is not None and number > last:
                break
            out.last_time = number / fps
            if number % every:
                continue
            _hash_frame(out, _upright(frame), number, number / fps, variants)
    except av.FFmpegError as exc:
        if number < 0:
            raise
        out.broke_off = str(exc)
        out.flags.append(f"truncated: decoding stopped at {out.last_time:.1f} s ({exc})")
    out.decoded = number + 1
    return out


def _upright(frame: Any) -> np.ndarray:
    """The frame as a viewer shows it: the stream's display rotation applied."""
    pixels = frame.to_ndarray(format="rgb24")
    turns = round(float(getattr(frame, "rotation", 0) or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(pixels, turns)) if turns else pixels


def _hash_frame(out: _Sampled, pixels: np.ndarray, number: int, at: float, extra: bool) -> None:
    found = pdqcore.pdq_float(pixels)
    value = pdqcore.bits_hex(found.dct16)
    out.frames.append(FrameHash(value, found.quality, at, number, found.contrast_quality))
    if not extra:
        return
    seen = {value}
    if not found.is_flat:
        for name, dct in pdqcore.dihedral_dct(found.dct16).items():
            _add_variant(out, seen, pdqcore.bits_hex(dct), found, at, name)
    box = borders.content_box(pixels)
    if box is not None:
        top, bottom, left, right = box
        inner = pdqcore.pdq_float(np.ascontiguousarray(pixels[top:bottom, left:right]))
        _add_variant(out, seen, pdqcore.bits_hex(inner.dct16), inner, at, "trimmed")


def _add_variant(
    out: _Sampled, seen: set[str], value: str, found: pdqcore.PdqFloat, at: float, kind: str
) -> None:
    if value not in seen:
        seen.add(value)
        out.variants.append(FrameVariant(value, found.quality, at, kind, found.contrast_quality))


def collapse(frames: Sequence[FrameHash], distance: int) -> Iterator[FrameHash]:
    """Drop frames within ``distance`` bits of the last kept frame (0: exact repeats only;
    negative keeps all)."""
    kept: FrameHash | None = None
    for frame in frames:
        if kept is None or distance < 0 or _distance(kept.hash, frame.hash) > distance:
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


def frame_at(source: VideoSource, seconds: float, *, max_pixels: int | None = None) -> np.ndarray:
    """The picture a viewer shows ``seconds`` into the video (upright, RGB): for a review
    keyframe, decoded on request and never kept. Raises VideoDecodeError."""
    try:
        with av.open(source, mode="r") as container:
            stream = _video_stream(container, max_pixels)
            stream.thread_type = "SLICE"
            if seconds > 0 and stream.time_base:
                container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if frame.time is None or frame.time >= seconds - 1e-3:
                    break
            if chosen is None:
                raise VideoDecodeError("no frame at that time")
            return _upright(chosen)
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"cannot decode video: {exc}") from exc
