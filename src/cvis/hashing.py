"""Hash one media item: crypto digests from one read of the bytes, PDQ for pictures.

The bytes are held in memory only for the item being hashed and dropped after;
nothing here writes them anywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from cvis.media.items import MediaItem
from cvis.media.sniff import sniff_kind
from cvis.signals.crypto import CHUNK_SIZE, DigestAccumulator
from cvis.signals.pdq import pdq_from_bytes

DEFAULT_MAX_PIXELS = 200_000_000
DEFAULT_MAX_IMAGE_BYTES = 512 * 1024 * 1024


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HashingLimits:
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES


def _read_and_digest(item: MediaItem, keep_up_to: int) -> tuple[HashRecord, bytes | None, str]:
    """Digest the whole stream; keep the bytes only if it is a picture small enough to decode."""
    acc = DigestAccumulator()
    kept: list[bytes] | None = []
    kind = "file"
    with item.open() as stream:
        first = True
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            if first:
                kind, first = sniff_kind(chunk[:64]), False
                if kind != "image":
                    kept = None
            acc.update(chunk)
            if kept is not None:
                kept.append(chunk)
                if acc.size > keep_up_to:
                    kept = None
    digests = acc.result()
    record = HashRecord(item.name, digests.size, digests.md5, digests.sha1, digests.sha256)
    return record, (b"".join(kept) if kept else None), kind


def _describe_image_error(exc: Exception) -> str:
    if isinstance(exc, Image.DecompressionBombError):
        return f"decompression bomb: {exc}"
    if isinstance(exc, UnidentifiedImageError):
        return "undecodable image: unrecognised or corrupt image data"
    return f"undecodable image: {type(exc).__name__}: {exc}"


def hash_item(item: MediaItem, limits: HashingLimits = HashingLimits()) -> HashRecord:
    """Never raises for bad content: the reason goes into ``error`` and the scan goes on."""
    if item.error:
        return HashRecord(item.name, item.size, error=item.error)
    try:
        record, data, kind = _read_and_digest(item, limits.max_image_bytes)
    except OSError as exc:
        return HashRecord(item.name, item.size, error=f"unreadable: {exc}")
    if record.size == 0:
        record.error = "empty file"
        return record
    if kind == "image" and data is None:
        record.error = "image too large to decode"
    elif data is not None:
        Image.MAX_IMAGE_PIXELS = limits.max_pixels // 2  # Pillow raises beyond 2x this
        try:
            pdq = pdq_from_bytes(data)
        except Exception as exc:  # decoders raise many types on hostile input
            record.error = _describe_image_error(exc)
        else:
            record.pdq, record.pdq_quality = pdq.hash, pdq.quality
    return record
