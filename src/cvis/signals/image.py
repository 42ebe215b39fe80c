"""All PDQ signals of one encoded image: the primary hash plus the extra hashes that
find altered copies (other animation frames, the picture inside added borders,
mirrored and rotated versions).

The primary hash is what Meta's reference gives for the upright first frame
(within float rounding, or a bit or two when a large JPEG is decoded reduced);
the extras are for the scan pipeline to look up as well, never to export as
the item's PDQ.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cvis.signals import borders, pdqcore
from cvis.signals.decode import (
    DECODE_MIN_SIDE,
    DEFAULT_MAX_PIXELS,
    MAX_FRAMES,
    DecodedFrame,
    DecodeError,
    decode_frames,
)

# Consecutive animation frames this close to the last kept one add nothing.
FRAME_COLLAPSE_DISTANCE = 4


@dataclass(frozen=True)
class PdqVariant:
    """An extra hash: kind is "frame", "trimmed" or a dihedral name ("flipy", "rotate90"...)."""

    hash: str
    quality: int
    kind: str
    frame: int = 0


@dataclass(frozen=True)
class ImageSignals:
    pdq: str
    quality: int
    contrast_quality: int  # see cvis.signals.quality.allow_match
    width: int
    height: int
    frame_count: int
    variants: tuple[PdqVariant, ...] = ()

    def hashes(self) -> list[str]:
        """Primary first, then each distinct extra hash: what to look up."""
        return [self.pdq, *(v.hash for v in self.variants)]


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hash_image_bytes(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    dihedral: bool = True,
    trim_borders: bool = True,
    exact: bool = False,
    max_frames: int = MAX_FRAMES,
) -> ImageSignals:
    """Hash an encoded image held in memory. Raises DecodeError if it is not one.

    ``exact=True`` decodes at full size (no JPEG DCT scaling) for answers equal
    to the reference's on plain files.
    """
    min_side = None if exact else DECODE_MIN_SIDE
    frames = decode_frames(data, max_pixels=max_pixels, min_side=min_side, max_frames=max_frames)
    first = next(frames, None)
    if first is None:
        raise DecodeError("image has no frames")
    primary = pdqcore.pdq_float(first.pixels, first.full_size)
    primary_hash = pdqcore.bits_hex(primary.dct16)
    variants: list[PdqVariant] = []
    if dihedral and not primary.is_flat:
        variants += _dihedral(primary)
    if trim_borders:
        variants += _trimmed(first)
    count, frame_variants = _later_frames(frames, primary_hash)
    variants += frame_variants
    width, height = first.full_size
    return ImageSignals(
        primary_hash,
        primary.quality,
        primary.contrast_quality,
        width,
        height,
        count,
        _distinct(primary_hash, variants),
    )


def _later_frames(frames: Iterator[DecodedFrame], first: str) -> tuple[int, list[PdqVariant]]:
    """Hash animation frames after the first, up to the first that cannot be decoded
    (a damaged or carved file still yields what it holds)."""
    count, last, variants = 1, first, []
    try:
        for frame in frames:
            count += 1
            found = pdqcore.pdq_float(frame.pixels, frame.full_size)
            value = pdqcore.bits_hex(found.dct16)
            if hamming(value, last) > FRAME_COLLAPSE_DISTANCE:
                variants.append(PdqVariant(value, found.quality, "frame", frame.index))
                last = value
    except DecodeError:
        pass
    return count, variants


def _dihedral(primary: pdqcore.PdqFloat) -> list[PdqVariant]:
    variants = pdqcore.dihedral_dct(primary.dct16)
    return [
        PdqVariant(pdqcore.bits_hex(dct), primary.quality, name)
        for name, dct in variants.items()
        if name != "original"
    ]


def _trimmed(frame: DecodedFrame) -> list[PdqVariant]:
    box = borders.content_box(frame.pixels)
    if box is None:
        return []
    top, bottom, left, right = box
    h, w = frame.pixels.shape[:2]
    full_w, full_h = frame.full_size
    inner = frame.pixels[top:bottom, left:right]
    full = (round((right - left) * full_w / w), round((bottom - top) * full_h / h))
    found = pdqcore.pdq_float(inner, full)
    return [PdqVariant(pdqcore.bits_hex(found.dct16), found.quality, "trimmed", frame.index)]


def _distinct(primary: str, variants: list[PdqVariant]) -> tuple[PdqVariant, ...]:
    seen = {primary}
    kept = []
    for variant in variants:
        if variant.hash not in seen:
            seen.add(variant.hash)
            kept.append(variant)
    return tuple(kept)
