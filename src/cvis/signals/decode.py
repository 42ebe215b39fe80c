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
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image, ImageSequence, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 200_000_000
# >= 8 decoded pixels per PDQ cell (1/64 of a side): see benchmarks/hashing.md.
DECODE_MIN_SIDE = 512
MAX_FRAMES = 300
_TRANSPOSING = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_ORIENTATION_TAG = 0x0112
# EXIF orientation -> the array operation Pillow's exif_transpose performs.
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}
# Modes whose array the reference hashes as the colours a viewer sees.
_PLAIN_MODES = ("RGB", "L")

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
    # A still's pixels are as stored; ``orientation`` (EXIF) says how a viewer turns them.
    orientation: int = 1
    # Where the reference pipeline hashes other numbers than the colours a viewer shows
    # (palette indices, CMYK ink, clipped 16-bit, alpha dropped): its array, else None.
    reference: np.ndarray | None = None

    def upright(self) -> DecodedFrame:
        """The frame as a viewer shows it (EXIF orientation applied)."""
        if self.orientation not in _ORIENT:
            return self
        pixels = np.ascontiguousarray(_ORIENT[self.orientation](self.pixels))
        width, height = self.full_size
        full = (height, width) if self.orientation in _TRANSPOSING else (width, height)
        return DecodedFrame(pixels, full, self.index)


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
    """Pixels as stored (orientation not applied), and the reference's array if it differs."""
    width, height = image.size
    orientation = int(image.getexif().get(_ORIENTATION_TAG, 1) or 1)
    if min_side and image.format in ("JPEG", "MPO") and image.mode in _PLAIN_MODES:
        _draft_luma(image, min_side)
    reference = None if image.mode in _PLAIN_MODES else reference_array(image)
    return DecodedFrame(to_pixels(image), (width, height), 0, orientation, reference)


def reference_array(image: Image.Image) -> np.ndarray:
    """The array Meta's reference (threatexchange ``pdq_from_file``) gives ``pdqhash``:
    Pillow's raw array, with LA and I;16 converted to RGB and grey stacked to 3 channels."""
    if image.mode in ("LA", "I;16"):
        image = image.convert("RGB")
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[..., np.newaxis], 3, axis=2)
    return array


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
        still = frame.copy()
        pixels = to_pixels(still)
        reference = None if index or still.mode in _PLAIN_MODES else reference_array(still)
        yield DecodedFrame(pixels, (pixels.shape[1], pixels.shape[0]), index, 1, reference)


def to_pixels(image: Image.Image) -> np.ndarray:
    """The colours a viewer sees as grey (H x W) or RGB (H x W x 3) uint8."""
    mode = image.mode
    if mode == "L":
        return _grey_pixels(image)
    if mode == "RGB":
        return np.asarray(image)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _deep_to_grey(np.asarray(image))
    if mode == "1":
        return np.asarray(image.convert("L"))
    if mode in ("LA", "La", "PA", "P", "RGBA", "RGBa"):
        return _flatten_alpha(image)
    return np.asarray(image.convert("RGB"))  # CMYK (Pillow undoes Adobe inversion), YCbCr, LAB...


def _grey_pixels(image: Image.Image) -> np.ndarray:
    """A grey picture's pixels, read-only. Where pyarrow is loaded (the scan's workers: their
    fork server preloads it), Pillow's own memory through Arrow's C interface, kept alive as
    long as the array: a copy costs ~1 ms a 3 MP picture, a tenth of its whole hashing, and
    a `cvis hash` of one picture is not worth pyarrow's import. Else (or for a picture too
    large for one block of Pillow's memory) a copy."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        try:
            flat = arrow.array(image).to_numpy(zero_copy_only=True)
        except (ValueError, arrow.ArrowException):
            pass
        else:
            return flat.reshape(image.height, image.width)
    return np.asarray(image)


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
