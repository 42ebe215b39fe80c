"""All PDQ signals of one encoded image: the primary hash plus the extra hashes that
find altered copies (other animation frames, the picture inside added borders,
mirrored and rotated versions).

The primary hash is what Meta's reference (threatexchange ``pdq_from_file``)
gives for the file: the first frame as stored (EXIF orientation not applied),
palette indices, CMYK ink and clipped 16-bit values as Pillow reads them (within
float rounding, or a few bits when a large JPEG is decoded reduced). Where a
viewer shows other pixels (orientation, palette, CMYK, alpha, 16-bit), the
viewer's hash is an extra ("viewer"), looked up too and never exported instead.
The extras are for the scan pipeline to look up as well, never to export as
the item's PDQ.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pdqhash

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
    """An extra hash: kind is "viewer", "frame", "trimmed" or a dihedral name ("flipy"...).

    ``contrast_quality`` is the variant's own (a later animation frame may hold a
    picture when the first is blank)."""

    hash: str
    quality: int
    kind: str
    frame: int = 0
    contrast_quality: int = 0


@dataclass(frozen=True)
class ImageSignals:
    pdq: str
    quality: int
    contrast_quality: int  # see cvis.signals.quality.allow_match
    width: int
    height: int
    frame_count: int
    variants: tuple[PdqVariant, ...] = ()
    # Every other registered picture signal (PictureSignal): name -> values.
    others: dict[str, list[str]] = field(default_factory=dict)

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
    others: bool | frozenset[str] = False,
) -> ImageSignals:
    """Hash an encoded image held in memory. Raises DecodeError if it is not one.

    ``exact=True`` decodes at full size (no JPEG DCT scaling) for answers equal
    to the reference's on plain files. ``others=True`` also computes every
    registered PictureSignal from the upright first frame; a set of names, only those.
    """
    min_side = None if exact else DECODE_MIN_SIDE
    frames = decode_frames(data, max_pixels=max_pixels, min_side=min_side, max_frames=max_frames)
    first = next(frames, None)
    if first is None:
        raise DecodeError("image has no frames")
    upright = first.upright()
    viewer = pdqcore.pdq_float(upright.pixels, upright.full_size)
    viewer_hash = pdqcore.bits_hex(viewer.dct16)
    primary_hash, quality = _reference_hash(first, viewer, viewer_hash)
    variants: list[PdqVariant] = []
    if viewer_hash != primary_hash:
        variants.append(PdqVariant(viewer_hash, viewer.quality, "viewer", 0,
                                   viewer.contrast_quality))
    if dihedral and not viewer.is_flat:
        variants += _dihedral(viewer)
    if trim_borders:
        variants += _trimmed(upright)
    count, frame_variants = _later_frames(frames, viewer_hash)
    variants += frame_variants
    width, height = upright.full_size
    return ImageSignals(
        primary_hash,
        quality,
        viewer.contrast_quality,
        width,
        height,
        count,
        _distinct(primary_hash, variants),
        _others(upright.pixels, others),
    )


def _others(pixels: np.ndarray, wanted: bool | frozenset[str]) -> dict[str, list[str]]:
    if wanted is False or not wanted:
        return {}
    return other_signals(pixels, None if wanted is True else wanted)


def other_signals(
    pixels: np.ndarray, only: frozenset[str] | None = None
) -> dict[str, list[str]]:
    """Every registered PictureSignal of the picture (or those named in ``only``); one that
    fails on it is left out (PDQ and the digests still stand)."""
    from cvis.signals import picture_signal_types  # the registry imports this module

    found: dict[str, list[str]] = {}
    for signal in picture_signal_types():
        if only is not None and signal.name not in only:
            continue
        try:
            values = signal.from_pixels(pixels)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - a plug-in's failure costs its own signal only
            continue
        if values:
            found[signal.name] = values
    return found


def _reference_hash(
    first: DecodedFrame, viewer: pdqcore.PdqFloat, viewer_hash: str
) -> tuple[str, int]:
    """What the reference computes: the viewer's when the pixels are the same, the stored
    orientation's, or ``pdqhash`` on the reference's own array for other pixel modes."""
    if first.reference is not None:
        try:
            bits, quality = pdqhash.compute(np.ascontiguousarray(first.reference))
        except (TypeError, ValueError):  # an array the reference cannot hash either
            return viewer_hash, viewer.quality
        return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), int(quality)
    if first.orientation in (None, 1):
        return viewer_hash, viewer.quality
    stored = pdqcore.pdq_float(first.pixels, first.full_size)
    return pdqcore.bits_hex(stored.dct16), stored.quality


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
                variants.append(PdqVariant(value, found.quality, "frame", frame.index,
                                           found.contrast_quality))
                last = value
    except DecodeError:
        pass
    return count, variants


def _dihedral(primary: pdqcore.PdqFloat) -> list[PdqVariant]:
    variants = pdqcore.dihedral_dct(primary.dct16)
    return [
        PdqVariant(pdqcore.bits_hex(dct), primary.quality, name, 0, primary.contrast_quality)
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
    return [PdqVariant(pdqcore.bits_hex(found.dct16), found.quality, "trimmed", frame.index,
                       found.contrast_quality)]


def _distinct(primary: str, variants: list[PdqVariant]) -> tuple[PdqVariant, ...]:
    seen = {primary}
    kept = []
    for variant in variants:
        if variant.hash not in seen:
            seen.add(variant.hash)
            kept.append(variant)
    return tuple(kept)
