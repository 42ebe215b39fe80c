"""cvis reports the reference's PDQ and keeps the viewer's as well: each converted copy of
a picture reports what Meta's reference computes for the file, and where that differs from
what a viewer shows, an extra "viewer" hash near the plain RGB picture is looked up too."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from threatexchange.signal_type.pdq import pdq_hasher

from cvis.signals.decode import DecodeError, decode_frames, to_pixels
from cvis.signals.image import hash_image_bytes
from cvis.signals.pdq import pdq_from_bytes
from tests.hashing_samples import encode, hamming, photo

NEAR = 10  # PDQ's cross-implementation tolerance
FAR = 31  # past Meta's match threshold


def reference(data: bytes) -> str | None:
    try:
        return pdq_hasher.pdq_from_bytes(data)[0]
    except Exception:  # the reference fails outright on some modes
        return None


def plain(image: Image.Image) -> str:
    return pdq_from_bytes(encode(image.convert("RGB"))).hash


def viewer_hash(data: bytes) -> str:
    signals = hash_image_bytes(data, dihedral=False, trim_borders=False)
    viewer = [v.hash for v in signals.variants if v.kind == "viewer"]
    return viewer[0] if viewer else signals.pdq


def assert_reference_reported_viewer_kept(converted: bytes, upright: Image.Image) -> None:
    truth = plain(upright)
    theirs = reference(converted)
    assert theirs is not None and hamming(theirs, truth) > FAR  # the decodings differ
    assert hamming(pdq_from_bytes(converted).hash, theirs) <= NEAR  # reported: the reference's
    assert hamming(viewer_hash(converted), truth) <= NEAR  # and the viewer's is looked up


def test_palette_png() -> None:
    image = photo("chelsea.png")
    palette = image.quantize(256)
    assert_reference_reported_viewer_kept(encode(palette), palette.convert("RGB"))


def test_gif_palette() -> None:
    image = photo("coffee.png")
    data = encode(image, "GIF")
    assert_reference_reported_viewer_kept(data, Image.open(io.BytesIO(data)).convert("RGB"))


def test_cmyk_jpeg_with_adobe_inversion() -> None:
    image = photo("rocket.jpg")
    data = encode(image.convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).info.get("adobe") is not None
    assert_reference_reported_viewer_kept(data, image)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_grey(fmt: str) -> None:
    grey = photo("coffee.png").convert("L")
    deep = np.asarray(grey).astype(np.uint16) * 257
    image = Image.fromarray(deep if fmt == "PNG" else deep.astype(np.int32))
    assert image.mode == ("I;16" if fmt == "PNG" else "I")
    data = encode(image, fmt)
    assert hamming(viewer_hash(data), plain(grey)) <= NEAR
    theirs = reference(data)
    if theirs is not None:
        assert hamming(pdq_from_bytes(data).hash, theirs) <= NEAR


@pytest.mark.parametrize("mode", ["LA", "RGBA"])
def test_opaque_alpha_modes_equal_plain(mode: str) -> None:
    source = photo("chelsea.png").convert(mode[:-1])
    converted = source.convert(mode)
    assert pdq_from_bytes(encode(converted)).hash == plain(source)


def test_palette_with_alpha_in_memory() -> None:
    palette = photo("chelsea.png").quantize(256)
    pixels = to_pixels(palette.convert("PA"))
    assert np.array_equal(pixels, np.asarray(palette.convert("RGB")))


def test_transparent_areas_are_flattened_on_white() -> None:
    image = photo("coffee.png")
    rgba = image.convert("RGBA")
    alpha = np.full((image.height, image.width), 255, np.uint8)
    alpha[:, : image.width // 4] = 0
    rgba.putalpha(Image.fromarray(alpha))
    on_white = np.asarray(image).copy()
    on_white[:, : image.width // 4] = 255
    assert hamming(viewer_hash(encode(rgba)), plain(Image.fromarray(on_white))) <= NEAR


def test_exif_orientation_is_applied() -> None:
    upright = photo("motorcycle_left.png")
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    data = encode(stored, "JPEG", quality=95, exif=exif)
    assert_reference_reported_viewer_kept(data, upright)
    signals = hash_image_bytes(data)
    assert (signals.width, signals.height) == upright.size


def test_every_frame_of_an_animated_gif_is_hashed() -> None:
    scenes = [photo(n).resize((320, 240)) for n in ("chelsea.png", "coffee.png", "rocket.jpg")]
    data = encode(scenes[0], "GIF", save_all=True, append_images=scenes[1:], duration=100)
    signals = hash_image_bytes(data, dihedral=False, trim_borders=False)
    assert signals.frame_count == 3
    frames = [v for v in signals.variants if v.kind == "frame"]
    assert [v.frame for v in frames] == [1, 2]
    for scene, found in zip(scenes[1:], frames, strict=True):
        assert hamming(found.hash, plain(scene)) <= FAR
        assert hamming(reference(data) or "0" * 64, plain(scene)) > FAR


def test_animated_webp_frames() -> None:
    scenes = [photo(n).resize((320, 240)) for n in ("chelsea.png", "rocket.jpg")]
    data = encode(scenes[0], "WEBP", save_all=True, append_images=scenes[1:], quality=90)
    signals = hash_image_bytes(data, dihedral=False, trim_borders=False)
    assert signals.frame_count == 2
    assert hamming(signals.variants[0].hash, plain(scenes[1])) <= NEAR


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF", "AVIF", "TIFF", "BMP"])
def test_other_formats_hash_near_plain(fmt: str) -> None:
    image = photo("chelsea.png")
    data = encode(image, fmt, quality=90) if fmt in ("WEBP", "HEIF", "AVIF") else encode(image, fmt)
    assert hamming(pdq_from_bytes(data).hash, plain(image)) <= NEAR


def test_garbage_and_bombs_are_refused() -> None:
    with pytest.raises(DecodeError):
        pdq_from_bytes(b"not an image at all")
    with pytest.raises(DecodeError):
        list(decode_frames(encode(photo()), max_pixels=1000))


def test_mpo_is_a_still_photo_with_orientation() -> None:
    upright = photo("motorcycle_left.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    data = encode(stored, "MPO", save_all=True, append_images=[photo("coffee.png")], exif=exif)
    signals = hash_image_bytes(data, dihedral=False)
    assert signals.frame_count == 1 and (signals.width, signals.height) == upright.size
    assert hamming(viewer_hash(data), plain(upright)) <= NEAR


def test_damaged_animation_keeps_the_frames_it_holds() -> None:
    scenes = [photo(n).resize((320, 240)) for n in ("chelsea.png", "coffee.png", "rocket.jpg")]
    data = encode(scenes[0], "GIF", save_all=True, append_images=scenes[1:], duration=100)
    signals = hash_image_bytes(data[: int(len(data) * 0.8)], dihedral=False)
    assert 1 <= signals.frame_count < 3
    assert hamming(viewer_hash(data[: int(len(data) * 0.8)]),
                   plain(scenes[0].quantize(256).convert("RGB"))) <= NEAR
