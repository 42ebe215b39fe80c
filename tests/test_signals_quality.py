"""Low-quality matching: dark and faint copies are found, blank and flat pictures never pair."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from cvis.signals.image import ImageSignals, hash_image_bytes
from cvis.signals.quality import MIN_QUALITY, allow_match
from tests.hashing_samples import encode, hamming, photo


def signals(pixels: np.ndarray, fmt: str = "PNG") -> ImageSignals:
    data = encode(Image.fromarray(pixels), fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return hash_image_bytes(data, dihedral=False, trim_borders=False)


def ours(query: ImageSignals, known: ImageSignals) -> bool:
    distance = hamming(query.pdq, known.pdq)
    return allow_match(
        query.quality,
        known.quality,
        distance,
        query_contrast_quality=query.contrast_quality,
        query_hash=query.pdq,
    )


def metas(query: ImageSignals, known: ImageSignals) -> bool:
    return allow_match(query.quality, known.quality, hamming(query.pdq, known.pdq))


@pytest.mark.parametrize("name", ["chelsea.png", "rocket.jpg"])
@pytest.mark.parametrize(
    "change", [lambda x: x * 0.12, lambda x: 128 + (x - 128) * 0.1], ids=["dark", "faint"]
)
def test_dark_and_faint_copies_are_found_where_meta_rule_never_does(name, change) -> None:
    pixels = np.asarray(photo(name)).astype(np.float64)
    original = signals(pixels.astype(np.uint8))
    copy = signals(np.clip(np.rint(change(pixels)), 0, 255).astype(np.uint8), "JPEG")
    assert copy.quality < MIN_QUALITY <= original.quality
    assert not metas(copy, original)
    assert ours(copy, original) and ours(original, copy)


def test_blank_and_flat_pictures_never_match_each_other() -> None:
    rng = np.random.default_rng(0)
    pictures = []
    for value in (0, 1, 37, 128, 255):
        pictures.append(np.full((120, 160, 3), value, np.uint8))
        noise = rng.integers(-2, 3, (120, 160, 3))
        pictures.append(np.clip(value + noise, 0, 255).astype(np.uint8))
    found = [signals(p, fmt) for p in pictures for fmt in ("PNG", "JPEG")]
    naive = sum(hamming(a.pdq, b.pdq) <= 31 for a, b in itertools.combinations(found, 2))
    assert naive > 0  # what a distance-only matcher would report
    assert not any(ours(a, b) or ours(b, a) for a, b in itertools.combinations(found, 2))
    assert all(s.contrast_quality == 0 and s.pdq == "0" * 64 for s in found)


def test_ordinary_pairs_follow_the_threshold() -> None:
    assert allow_match(80, 90, 31)
    assert not allow_match(80, 90, 32)
    assert not allow_match(80, 30, 5)  # low-quality known, query not measured: Meta's rule
    assert allow_match(80, 30, 5, query_contrast_quality=100)
    assert not allow_match(20, 90, 20, query_contrast_quality=100)  # low quality: stricter
    assert allow_match(70, None, 20)  # set without qualities
