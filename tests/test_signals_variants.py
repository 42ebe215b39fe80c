"""Extra hashes: mirrored/rotated copies and copies inside added borders are found."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cvis.signals.borders import content_box
from cvis.signals.image import hash_image_bytes
from tests.hashing_samples import encode, hamming, photo

FAR, NEAR = 31, 10


def best(signals, target: str) -> int:
    return min(hamming(h, target) for h in signals.hashes())


@pytest.mark.parametrize(
    "transpose",
    [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90, Image.Transpose.TRANSVERSE],
)
def test_mirrored_and_rotated_copies_match_through_dihedral_variants(transpose) -> None:
    original = photo("chelsea.png")
    known = hash_image_bytes(encode(original), dihedral=False).pdq
    copy = hash_image_bytes(encode(original.transpose(transpose), "JPEG", quality=90))
    assert hamming(copy.pdq, known) > FAR
    assert best(copy, known) <= 16  # JPEG re-encoding accounts for the rest
    assert len({v.kind for v in copy.variants}) >= 7


@pytest.mark.parametrize("pad", [(40, 0, "black"), (0, 30, "white"), (12, 12, (200, 30, 30))])
def test_copies_inside_borders_match_through_trimmed_variant(pad) -> None:
    top, side, colour = pad
    original = photo("coffee.png")
    framed = Image.new("RGB", (original.width + 2 * side, original.height + 2 * top), colour)
    framed.paste(original, (side, top))
    known = hash_image_bytes(encode(original)).pdq
    copy = hash_image_bytes(encode(framed, "JPEG", quality=90), dihedral=False)
    assert hamming(copy.pdq, known) > FAR // 2
    trimmed = [v for v in copy.variants if v.kind == "trimmed"]
    assert trimmed and hamming(trimmed[0].hash, known) <= NEAR


def test_no_trim_without_borders_and_none_for_blank() -> None:
    assert content_box(np.asarray(photo("rocket.jpg"))) is None
    assert content_box(np.full((50, 80), 7, np.uint8)) is None
    signals = hash_image_bytes(encode(photo("rocket.jpg")))
    assert all(v.kind != "trimmed" for v in signals.variants)
