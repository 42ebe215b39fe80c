"""Hash one media item: crypto digests from one streamed read, PDQ for pictures.

Files are digested chunk by chunk, so a 4 GB video never sits in memory; only
a picture small enough to decode (``max_image_bytes``) is kept, for the one
item being hashed, and dropped after. Nothing here writes bytes anywhere.
Hashing is two steps (``digest_item``, then ``decode_item``) so the worker
pool can decode identical content once per scan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from cvis.media.items import MediaItem
from cvis.media.sniff import SNIFF_BYTES, sniff_kind
from cvis.signals.crypto import CHUNK_SIZE, DigestAccumulator
from cvis.signals.decode import PixelLimitError
from cvis.signals.image import hash_image_bytes

DEFAULT_MAX_PIXELS = 200_000_000
log = logging.getLogger(__name__)
DEFAULT_MAX_IMAGE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class PdqAlternative:
    """Another PDQ of the same item: a mirrored/rotated or border-trimmed copy, a GIF frame,
    or a sampled video frame (``kind`` says which)."""

    hash: str
    quality: int
    contrast_quality: int | None
    kind: str
    frame: int | None = None  # a video's own sampled frame: its number (vPDQ keeps it)


@dataclass
class HashRecord:
    """The hash fields of the command-line contract, for one item."""

    path: str
    size: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    error: str | None = None
    flags: list[str] = field(default_factory=list)
    # Not part of the output contract: what the matcher also looks up.
    pdq_contrast_quality: int | None = None
    pdq_variants: list[PdqAlternative] = field(default_factory=list)
    # Every other registered picture signal (cvis.signals.base.PictureSignal): name -> values.
    signals: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The contract's fields (no deep copy of the variants, which are not among them)."""
        return {"path": self.path, "size": self.size, "md5": self.md5, "sha1": self.sha1,
                "sha256": self.sha256, "pdq": self.pdq, "pdq_quality": self.pdq_quality,
                "error": self.error, "flags": list(self.flags)}


@dataclass(frozen=True)
class HashingLimits:
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    # The registered picture signals beyond PDQ to compute (None: every one). A scan asks
    # only for those its sets hold: ORB keypoints cost several times PDQ.
    picture_signals: frozenset[str] | None = None


def _read_and_digest(item: MediaItem, keep_up_to: int) -> tuple[HashRecord, bytes | None, str]:
    """Digest the whole stream; keep the bytes only if it is a picture small enough to decode."""
    acc = DigestAccumulator()
    kept: list[bytes] | None = []
    kind = "file"
    with item.open() as stream:
        first = True
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            if first:
                kind, first = sniff_kind(chunk[:SNIFF_BYTES]), False
                if kind != "image":
                    kept = None
            acc.update(chunk)
            if kept is not None:
                kept.append(chunk)
                if acc.size > keep_up_to:
                    kept = None
    digests = acc.result()
    record = HashRecord(
        item.name, digests.size, digests.md5, digests.sha1, digests.sha256,
        error=item.error, flags=list(item.flags),
    )
    return record, (b"".join(kept) if kept else None), kind


def _unreadable(exc: OSError) -> str:
    """Why an item could not be read, in words an examiner can act on (a bomb says its limit)."""
    if str(exc).startswith("zip bomb"):
        return str(exc)
    log.info("unreadable item: %r", exc)
    return f"unreadable: {(exc.strerror or 'read error').lower()}"


def _describe_image_error(exc: Exception) -> str:
    if isinstance(exc, Image.DecompressionBombError):
        return f"decompression bomb: {exc}"
    if isinstance(exc, UnidentifiedImageError):
        return "undecodable image: unrecognised or corrupt image data"
    log.info("undecodable image: %r", exc)
    return "undecodable image: corrupt, truncated or unsupported image data"


def _register_decoders() -> None:
    """HEIC/HEIF (iPhones' default) through pillow-heif; Pillow reads AVIF itself."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - optional on odd platforms
        return
    register_heif_opener()


_register_decoders()


@dataclass
class Digested:
    """An item after its one read: the record with crypto hashes, and a picture to decode."""

    record: HashRecord
    picture: bytes | None = None
    video: bool = False  # frames to hash: a second step, so its digests survive a time limit

    @property
    def needs_decoding(self) -> bool:
        return self.picture is not None or self.video


def digest_item(item: MediaItem, limits: HashingLimits = HashingLimits()) -> Digested:
    """Never raises for bad content: the reason goes into ``error``."""
    if item.opener is None:
        return Digested(HashRecord(item.name, item.size, error=item.error, flags=list(item.flags)))
    try:
        record, data, kind = _read_and_digest(item, limits.max_image_bytes)
    except OSError as exc:
        return Digested(HashRecord(item.name, item.size, error=_unreadable(exc),
                                   flags=list(item.flags)))
    except Exception as exc:  # decompressors raise many types on corrupt members
        log.info("unreadable item %s: %r", item.name, exc)
        error = "unreadable: corrupt or truncated content"
        return Digested(HashRecord(item.name, item.size, error=error, flags=list(item.flags)))
    if record.size == 0:
        record.error = record.error or "empty file"
    elif kind == "image" and data is None:
        record.error = record.error or "image too large to decode"
    if record.error is not None:
        return Digested(record)
    return Digested(record, data, video=kind == "video")


def decode_item(
    item: MediaItem, digested: Digested, limits: HashingLimits = HashingLimits()
) -> None:
    """The second step: PDQ of the picture, or the frame hashes of the video."""
    if digested.picture is not None:
        decode_picture(digested.record, digested.picture, limits)
    elif digested.video:
        hash_video_frames(item, digested.record, limits)


def decode_picture(record: HashRecord, picture: bytes, limits: HashingLimits) -> None:
    """Fill in PDQ and its variants, or the reason the picture could not be decoded."""
    try:
        wanted = limits.picture_signals
        signals = hash_image_bytes(picture, max_pixels=limits.max_pixels,
                                   others=True if wanted is None else wanted)
    except PixelLimitError as exc:
        record.error = f"decompression bomb: {exc}"
    except Exception as exc:  # decoders raise many types on hostile input
        record.error = _describe_image_error(exc)
    else:
        record.pdq, record.pdq_quality = signals.pdq, signals.quality
        record.pdq_contrast_quality = signals.contrast_quality
        record.pdq_variants = [
            PdqAlternative(v.hash, v.quality, v.contrast_quality, v.kind)
            for v in signals.variants
        ]
        record.signals = dict(signals.others)


def hash_video_frames(
    item: MediaItem, record: HashRecord, limits: HashingLimits = HashingLimits()
) -> None:
    """vPDQ-style frame hashes (one a second) and each frame's mirrored, rotated and
    letterbox-trimmed hashes, looked up like pictures; the video stays put."""
    # PyAV (FFmpeg) is imported when a video is met: hashing pictures never pays for it.
    from cvis.signals.video import AudioOnly, VideoPixelLimit, hash_video

    try:
        with item.open() as stream:
            video = hash_video(stream, digests=False, max_pixels=limits.max_pixels)
    except AudioOnly as exc:
        record.flags.append(str(exc))
        return
    except VideoPixelLimit as exc:
        record.error = f"decompression bomb: {exc}"
        return
    except Exception as exc:  # PyAV raises many types on damaged containers
        log.info("undecodable video %s: %r", item.name, exc)
        record.error = "undecodable video: corrupt, truncated or unsupported video data"
        return
    record.flags.extend(video.flags)
    record.pdq_variants = [
        PdqAlternative(f.hash, f.quality, f.contrast_quality, f"frame@{f.timestamp:.1f}s",
                       f.frame_number)
        for f in video.frames
    ] + [
        PdqAlternative(v.hash, v.quality, v.contrast_quality,
                       f"frame@{v.timestamp:.1f}s/{v.kind}")
        for v in video.variants
    ]


def hash_item(item: MediaItem, limits: HashingLimits = HashingLimits()) -> HashRecord:
    """Never raises for bad content: the reason goes into ``error`` and the scan goes on."""
    digested = digest_item(item, limits)
    decode_item(item, digested, limits)
    return digested.record
