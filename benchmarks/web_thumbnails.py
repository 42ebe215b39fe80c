"""How long a review thumbnail takes to make (decode, shrink, protect, encode), per picture.

    .venv/bin/python benchmarks/web_thumbnails.py

Benign sample photos from scikit-image: the cat (451 x 300 PNG) and the astronaut
enlarged to 2048 x 2048 (PNG and JPEG); step 0 is the default (blurred, grey), step 3
the full reveal.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PIL import Image
from skimage import data

from cvis.web import thumbnails
from cvis.web.wellbeing import Preferences

ROUNDS = 10


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        cat, big_png, big_jpg = (Path(folder) / n for n in ("cat.png", "big.png", "big.jpg"))
        Image.fromarray(data.chelsea()).save(cat)
        big = Image.fromarray(data.astronaut()).resize((2048, 2048))
        big.save(big_png)
        big.save(big_jpg, quality=90)
        print("| picture | step | ms per thumbnail |")
        print("| --- | --- | --- |")
        for path in (cat, big_png, big_jpg):
            for step in (0, thumbnails.LAST_STEP):
                shown = thumbnails.effective_step(step, Preferences())
                started = time.perf_counter()
                for _ in range(ROUNDS):
                    thumbnails.render(str(path), shown)
                took = (time.perf_counter() - started) / ROUNDS * 1000
                print(f"| {path.name} | {step} | {took:.0f} |")


if __name__ == "__main__":
    main()
