"""A toy plug-in signal type for the end-to-end test: a 64-bit average hash.

It stands for any out-of-tree perceptual signal (a PhotoDNA plug-in would look the
same): a name, a validator, a Hamming distance, its index and threshold, and the
capability to compute itself from a picture.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from cvis.index.signal_index import HammingIndex
from cvis.signals.base import InvalidSignalValue, PictureSignal, SignalType


class AverageHash64(SignalType, PictureSignal):
    name = "ahash"
    media_kinds = frozenset({"image"})
    default_threshold = 6
    max_threshold = 64
    index = HammingIndex
    examples = ("ffff0000ffff0000", "0f0f0f0f0f0f0f0f")

    @classmethod
    def validate(cls, value: str) -> str:
        normal = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{16}", normal):
            raise InvalidSignalValue(f"ahash must be 16 hexadecimal characters, got {value!r}")
        return normal

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return (int(a, 16) ^ int(b, 16)).bit_count()

    @classmethod
    def from_pixels(cls, pixels: np.ndarray) -> list[str]:
        grey = Image.fromarray(pixels).convert("L").resize((8, 8), Image.Resampling.BOX)
        values = np.asarray(grey, dtype=np.float64)
        bits = (values > values.mean()).reshape(64)
        return [np.packbits(bits.astype(np.uint8)).tobytes().hex()]
