"""The fast PDQ path gives the reference's answers."""

from __future__ import annotations

import numpy as np
import pdqhash
import pytest
from threatexchange.signal_type.pdq import pdq_hasher

from cvis.signals import pdqcore
from cvis.signals.image import hash_image_bytes
from cvis.signals.pdq import bits_to_hex, pdq_from_bytes, pdq_from_rgb
from tests.hashing_samples import PHOTOS, encode, hamming, large_photo, photo


@pytest.mark.parametrize("name", PHOTOS)
def test_kernel_path_is_bit_identical_to_pdqhash(name: str) -> None:
    pixels = np.asarray(photo(name))
    for crop in (pixels, pixels[:301, :257], pixels[:127, :129], pixels[:64, :64], pixels[:9, :70]):
        crop = np.ascontiguousarray(crop)
        reference = pdq_from_rgb(crop)
        found = pdqcore.pdq_float(crop)
        assert pdqcore.bits_hex(found.dct16) == reference.hash
        assert found.quality == reference.quality


def test_grey_input_matches_reference_on_replicated_grey() -> None:
    grey = np.asarray(photo("coffee.png").convert("L"))
    reference = pdq_from_rgb(np.repeat(grey[..., None], 3, axis=2))
    assert pdqcore.bits_hex(pdqcore.pdq_float(grey).dct16) == reference.hash


def test_dihedral_variants_match_pdqhash() -> None:
    pixels = np.asarray(photo("chelsea.png"))
    vectors, _ = pdqhash.compute_dihedral(pixels)
    ours = pdqcore.dihedral_dct(pdqcore.pdq_float(pixels).dct16)
    for vector, name in zip(vectors, pdqcore.DIHEDRAL_NAMES, strict=True):
        assert pdqcore.bits_hex(ours[name]) == bits_to_hex(vector)


@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_plain_files_equal_reference(mode: str, fmt: str) -> None:
    for name in PHOTOS[:3]:
        data = encode(photo(name).convert(mode), fmt)
        reference, quality = pdq_hasher.pdq_from_bytes(data)
        ours = pdq_from_bytes(data)
        assert ours.hash == reference and ours.quality == quality


def test_large_jpeg_decoded_reduced_stays_within_tolerance() -> None:
    data = encode(large_photo("rocket.jpg", megapixels=2.0), "JPEG", quality=90)
    reference, quality = pdq_hasher.pdq_from_bytes(data)
    fast = hash_image_bytes(data, dihedral=False, trim_borders=False)
    exact = hash_image_bytes(data, dihedral=False, trim_borders=False, exact=True)
    assert quality >= 80
    assert hamming(fast.pdq, reference) <= 10
    assert exact.pdq == reference
    assert (fast.width, fast.height) == (exact.width, exact.height)
