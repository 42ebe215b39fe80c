"""Review thumbnails, made on request from the evidence and never stored.

Protection happens here, on the server: a protected thumbnail is shrunk,
blurred and made grey before it is encoded, so the browser never receives
the clear pixels unless the examiner reveals the item. Reveal is stepwise:
less blur, then no blur, then colour.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from cvis.web.wellbeing import Preferences

SIZE = 320
MAX_PIXELS = 80_000_000  # a larger picture is treated as a decompression bomb


@dataclass(frozen=True)
class Step:
    """One stage of a reveal: how much blur, and whether colour is shown."""

    number: int
    label: str
    blur: float  # Gaussian radius on the SIZE thumbnail; 0 is sharp
    colour: bool
    shrink: int = 1  # downscale by this first: removes detail a blur alone could leave


STEPS = (
    Step(0, "blurred", 12.0, False, 12),
    Step(1, "less blurred", 3.0, False, 3),
    Step(2, "sharp, grey", 0.0, False),
    Step(3, "sharp, colour", 0.0, True),
)
LAST_STEP = STEPS[-1].number


class NoPreview(LookupError):
    """The item cannot be shown (not a plain file here, not a picture, unreadable)."""


def effective_step(step: int, prefs: Preferences) -> Step:
    """The step as this examiner's settings make it: blur or grey switched off count as shown."""
    chosen = STEPS[max(0, min(step, LAST_STEP))]
    blur = chosen.blur if prefs.blur else 0.0
    colour = chosen.colour or not prefs.greyscale
    return Step(chosen.number, chosen.label, blur, colour, chosen.shrink if blur else 1)


def is_reveal(step: Step) -> bool:
    """Anything less than full protection shows the examiner the picture."""
    return step.blur < STEPS[0].blur or step.colour


def render(path: str, step: Step) -> bytes:
    """A JPEG thumbnail of the picture at ``path``, protected as ``step`` says."""
    source = Path(path)
    if "!" in path or not source.is_file():
        raise NoPreview("no preview: the item is inside a container or not on this machine")
    try:
        with Image.open(source) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise NoPreview("no preview: the picture is too large")
            opened.draft("RGB", (SIZE, SIZE))  # JPEG: decode at a reduced scale, much faster
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise NoPreview("no preview: not a picture this viewer can open "
                        "(videos are not previewed)") from exc
    image.thumbnail((SIZE, SIZE))
    return _encode(protect(image, step))


def render_frame(path: str, seconds: float, step: Step) -> bytes:
    """A JPEG thumbnail of the video frame ``seconds`` into the video at ``path``, protected as
    ``step`` says: a keyframe of a matching range, decoded from the evidence on request."""
    from cvis.signals.video import VideoDecodeError, frame_at

    source = Path(path)
    if "!" in path or not source.is_file():
        raise NoPreview("no preview: the item is inside a container or not on this machine")
    try:
        pixels = frame_at(source, seconds, max_pixels=MAX_PIXELS)
    except VideoDecodeError:
        return render(path, step)  # a still picture is its own frame at any time
    image = Image.fromarray(pixels)
    image.thumbnail((SIZE // 2, SIZE // 2))
    return _encode(protect(image, step))


def protect(image: Image.Image, step: Step) -> Image.Image:
    if step.blur:
        small = image.resize((max(1, image.width // step.shrink),
                              max(1, image.height // step.shrink)),
                             Image.Resampling.BOX)
        image = small.resize(image.size, Image.Resampling.BILINEAR).filter(
            ImageFilter.GaussianBlur(step.blur)
        )
    if not step.colour:
        image = ImageOps.grayscale(image).convert("RGB")
    return image


def placeholder(message: str) -> bytes:
    """A plain grey tile saying why there is no picture."""
    tile = Image.new("RGB", (SIZE, SIZE // 2), (200, 200, 200))
    ImageDraw.Draw(tile).text((10, SIZE // 4 - 6), message[:48], fill=(20, 20, 20))
    return _encode(tile)


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
