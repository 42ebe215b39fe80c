"""PDQ: Meta's 256-bit perceptual photo hash, as 64 lower-case hex characters."""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from cvis.index.signal_index import Pdq256Index
from cvis.signals.base import InvalidSignalValue, MatchQuery, SignalType
from cvis.signals.decode import to_pixels
from cvis.signals.image import hash_image_bytes
from cvis.signals.quality import ZERO_HASH, allow_match

PDQ_BITS = 256
PDQ_MATCH_THRESHOLD = 31
PDQ_MIN_QUALITY = 50


class PdqSignal(SignalType):
    name = "pdq"
    media_kinds = frozenset({"image", "video"})
    default_threshold = PDQ_MATCH_THRESHOLD
    max_threshold = 63  # unrelated pictures lie near 128 bits apart (casework: sets configure)
    index = Pdq256Index
    examples = (
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "0000000000000000000000000000000000000000000000000000000000000000",
    )

    @classmethod
    def validate(cls, value: str) -> str:
        normal = value.strip().lower()
        if len(normal) != 64 or not re.fullmatch(r"[0-9a-f]+", normal):
            raise InvalidSignalValue(f"pdq must be 64 hexadecimal characters, got {value!r}")
        return normal

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return (int(a, 16) ^ int(b, 16)).bit_count()

    @classmethod
    def allows(cls, query: MatchQuery, distance: int, threshold: int) -> bool:
        """cvis's quality policy (cvis.signals.quality); unknown quality is taken at its word."""
        quality = 100 if query.quality is None else query.quality
        return allow_match(quality, None, distance, query_contrast_quality=query.contrast_quality,
                           threshold=threshold, query_hash=query.value)

    @classmethod
    def verdict_key(cls, query: MatchQuery) -> Hashable:
        return (query.quality, query.contrast_quality, query.value == ZERO_HASH)


@dataclass(frozen=True)
class PdqResult:
    hash: str
    quality: int


def bits_to_hex(bits: np.ndarray) -> str:
    """The reference's bit order: bit 0 of the vector is the most significant hex bit."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def pdq_from_rgb(pixels: np.ndarray) -> PdqResult:
    """Hash an H x W x 3 uint8 array."""
    vector, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    return PdqResult(bits_to_hex(vector), int(quality))


def to_rgb_pixels(image: Image.Image) -> np.ndarray:
    """Honour EXIF orientation and convert any mode to the colours a viewer sees."""
    image = ImageOps.exif_transpose(image) or image
    pixels = to_pixels(image)
    if pixels.ndim == 2:
        return np.repeat(pixels[..., np.newaxis], 3, axis=2)
    return pixels


def pdq_from_image(image: Image.Image) -> PdqResult:
    return pdq_from_rgb(to_rgb_pixels(image))


def pdq_from_bytes(data: bytes) -> PdqResult:
    """Hash an encoded image held in memory (the scan pipeline's entry point).

    The primary hash of ``hash_image_bytes``: fast decode, every mode converted,
    EXIF orientation applied. Raises ``DecodeError`` (a ValueError) on bad bytes.
    """
    signals = hash_image_bytes(data, dihedral=False, trim_borders=False, max_frames=1)
    return PdqResult(signals.pdq, signals.quality)
