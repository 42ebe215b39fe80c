"""Turn encoded image bytes into the pixels a viewer sees, decoding no more than PDQ needs.

The reference pipeline hands Pillow's raw array to PDQ, so it hashes palette
indices, CMYK ink as RGB and clipped 16-bit values, and ignores EXIF orientation
and every frame after the first. Here every mode becomes the colours a viewer
shows, orientation is applied, and animated pictures yield every frame.

JPEGs are decoded at a reduced size through Pillow's draft mode (libjpeg's DCT
scaling), as luma only: the short side is kept at or above ``DECODE_MIN_SIDE``
pixels, which the measurement in ``benchmarks/hashing.md`` shows costs <= 6 bits
(<= 2 except on fine textures) against the full-size reference; one scale further
costs up to 22. Other formats offer no reduce-on-load in Pillow and are decoded
in full.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 200_000_000
# >= 8 decoded pixels per PDQ cell (1/64 of a side): see benchmarks/hashing.md.
DECODE_MIN_SIDE = 512
MAX_FRAMES = 300
_TRANSPOSING = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_ORIENTATION_TAG = 0x0112

pillow_heif.register_heif_opener()  # HEIC/HEIF through libheif (Pillow reads AVIF itself)


class DecodeError(ValueError):
    """Bytes that are not a picture cvis can decode (or one over the pixel limit)."""


class PixelLimitError(DecodeError):
    """A picture that declares more pixels than the limit: refused before decoding."""


@dataclass(frozen=True)
class DecodedFrame:
    """Pixels as H x W (grey) or H x W x 3 (RGB) uint8, upright.

    ``full_size`` is (width, height) of the upright picture at full resolution;
    it differs from the array's size when the decoder reduced the picture.
    """

    pixels: np.ndarray
    full_size: tuple[int, int]
    index: int = 0


def open_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open without decoding; refuse decompression bombs by declared size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Pillow's own limit (about 179 MP) would refuse pictures under ours; opening
            # reads only the header, and ours is checked before any pixel is decoded.
            previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                image = Image.open(io.BytesIO(data))
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except UnidentifiedImageError as exc:
        raise DecodeError("not a decodable image: unrecognised or corrupt image data") from exc
    except Image.DecompressionBombError as exc:
        raise PixelLimitError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise DecodeError(f"not a decodable image: {exc}") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise PixelLimitError(f"image of {width}x{height} pixels is over the {max_pixels} limit")
    return image


def decode_frames(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int | None = DECODE_MIN_SIDE,
    max_frames: int = MAX_FRAMES,
) -> Iterator[DecodedFrame]:
    """Every frame (up to ``max_frames``) of the picture, reduced where the format allows.

    ``min_side=None`` decodes at full size (the reference's pixels, for exact answers).
    """
    image = open_image(data, max_pixels)
    try:
        # MPO (phone JPEGs with a preview or depth picture after the photo) is a still
        if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
            yield from _animated(image, max_frames)
            return
        yield _still(image, min_side)
    except DecodeError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DecodeError(f"cannot decode image: {exc}") from exc
    finally:
        image.close()


def _still(image: Image.Image, min_side: int | None) -> DecodedFrame:
    width, height = image.size
    orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    if min_side and image.format in ("JPEG", "MPO") and image.mode in ("RGB", "L"):
        _draft_luma(image, min_side)
    upright = ImageOps.exif_transpose(image) or image
    full = (height, width) if orientation in _TRANSPOSING else (width, height)
    return DecodedFrame(to_pixels(upright), full)


def _draft_luma(image: Image.Image, min_side: int) -> None:
    """Ask libjpeg for luma at the smallest DCT scale keeping the short side >= min_side.

    Luma alone skips chroma upsampling and colour conversion; PDQ reads only luma.
    """
    width, height = image.size
    ratio = min(width, height) / min_side
    if ratio >= 2:  # below that no DCT scale applies: keep the reference's RGB pixels
        image.draft("L", (math.ceil(width / ratio), math.ceil(height / ratio)))


def _animated(image: Image.Image, max_frames: int) -> Iterator[DecodedFrame]:
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= max_frames:
            return
        pixels = to_pixels(frame.copy())
        yield DecodedFrame(pixels, (pixels.shape[1], pixels.shape[0]), index)


def to_pixels(image: Image.Image) -> np.ndarray:
    """The colours a viewer sees as grey (H x W) or RGB (H x W x 3) uint8."""
    mode = image.mode
    if mode in ("L", "RGB"):
        return np.asarray(image)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _deep_to_grey(np.asarray(image))
    if mode == "1":
        return np.asarray(image.convert("L"))
    if mode in ("LA", "La", "PA", "P", "RGBA", "RGBa"):
        return _flatten_alpha(image)
    return np.asarray(image.convert("RGB"))  # CMYK (Pillow undoes Adobe inversion), YCbCr, LAB...


def _deep_to_grey(values: np.ndarray) -> np.ndarray:
    """16-bit (or float) grey to 8 bits by scaling, where the reference clips at 255."""
    values = values.astype(np.float64)
    if values.max(initial=0) > 255:
        values = values / 257.0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _flatten_alpha(image: Image.Image) -> np.ndarray:
    """Composite on white, as viewers and 'flatten' commands do; opaque pictures are unchanged."""
    grey = image.mode in ("LA", "La")
    rgba = np.asarray(image.convert("LA" if grey else "RGBA"))
    colour, alpha = rgba[..., :-1], rgba[..., -1:]
    if alpha.min() == 255:
        pixels = colour
    else:
        a = alpha.astype(np.float32) / 255.0
        pixels = np.rint(colour * a + 255.0 * (1.0 - a)).astype(np.uint8)
    return np.ascontiguousarray(pixels[..., 0] if grey else pixels)
