"""Benign sample pictures for the hashing tests: scikit-image's shipped photos
(no people) and pictures generated here. Nothing else, ever."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import numpy as np
import skimage
from PIL import Image

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
PHOTOS = ("chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg")


@cache
def photo(name: str = "coffee.png") -> Image.Image:
    with Image.open(SKIMAGE_DATA / name) as image:
        return image.convert("RGB")


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    out = io.BytesIO()
    if fmt == "PNG":
        params.setdefault("compress_level", 1)  # fast: tests time hashing, not zlib
    image.save(out, format=fmt, **params)
    return out.getvalue()


def large_photo(name: str = "coffee.png", megapixels: float = 3.0, seed: int = 0) -> Image.Image:
    """A sample photo scaled up, with sensor-like grain so fine detail exists at full size."""
    base = photo(name)
    scale = (megapixels * 1e6 / (base.width * base.height)) ** 0.5
    big = base.resize((int(base.width * scale), int(base.height * scale)), Image.Resampling.LANCZOS)
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 3, (big.height, big.width, 3))
    return Image.fromarray(np.clip(np.asarray(big) + grain, 0, 255).astype(np.uint8))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def make_video(
    path: Path,
    scenes: list[Image.Image],
    *,
    seconds_each: float = 2.0,
    fps: int = 10,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
) -> Path:
    """An H.264 video showing each scene for a while; a small moving square makes frames differ."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        count = int(seconds_each * fps)
        for scene in scenes:
            for i in range(count):
                frame = scene.resize(size)
                x = i * (size[0] - 16) // count
                frame.paste((128, 128, 128), (x, 8, x + 16, 24))
                packet = stream.encode(av.VideoFrame.from_image(frame))
                container.mux(packet)
        container.mux(stream.encode(None))
    return path
