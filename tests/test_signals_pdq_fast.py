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


def test_compiled_and_numpy_downsample_agree_bit_for_bit() -> None:
    """The scan's workers downsample compiled, `cvis hash` in numpy: one buffer, to the bit."""
    from cvis.signals import pdqkernel

    rgb = np.asarray(photo("chelsea.png"))
    grey = np.asarray(photo("coffee.png").convert("L"))
    cases = [(rgb, None), (rgb[3:290, 7:255], None), (grey, (grey.shape[1] * 2, grey.shape[0] * 2)),
             (grey[:9, :70], None)]
    for pixels, full in cases:
        h, w = pixels.shape[:2]
        full_w, full_h = full or (w, h)
        kr, row_lo, row_hi = pdqcore._kernel32(full_h, h)
        kc, col_lo, col_hi = pdqcore._kernel32(full_w, w)
        flat = np.ascontiguousarray(pixels.reshape(h, -1))
        rows = pdqcore._band_rows(flat, kr, row_lo, row_hi)
        assert np.array_equal(rows, pdqkernel.band_rows(flat, kr, row_lo, row_hi))
        luma = np.ascontiguousarray(rows[:, ::3] if pixels.ndim == 3 else rows)
        assert np.array_equal(pdqcore._band_columns(luma, kc, col_lo, col_hi),
                              pdqkernel.band_columns(luma, kc, col_lo, col_hi))


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


def test_grey_pixels_through_arrow_are_pillow_s_own() -> None:
    """Where pyarrow is loaded (the scan's workers) a grey picture is read without a copy:
    the same pixels, reduced on load as before."""
    import io

    import pyarrow  # noqa: F401 - what switches the decoder to Pillow's memory
    from PIL import Image

    from cvis.signals.decode import DECODE_MIN_SIDE, _draft_luma, decode_frames, to_pixels

    grey = photo("coffee.png").convert("L")
    pixels = to_pixels(grey)
    assert not pixels.flags.writeable and np.array_equal(pixels, np.asarray(grey))
    data = encode(large_photo("chelsea.png"), "JPEG", quality=88)
    with Image.open(io.BytesIO(data)) as image:
        _draft_luma(image, DECODE_MIN_SIDE)
        copied = np.array(image)
    decoded = next(decode_frames(data)).pixels
    assert decoded.shape == copied.shape and decoded.shape[0] < DECODE_MIN_SIDE * 2
    assert np.array_equal(decoded, copied)
