"""Recall per edit, false positives and cost per image: PDQ (as a scan looks it up) beside
the ORB keypoint signal, on edited copies of benign photos among generated distractors.

    .venv/bin/python benchmarks/identify.py [--distractors 10000] [--seed 1]

Known set: 15 benign scikit-image photos (no people), 6 texture/graphic sample pictures and
``--distractors`` generated pictures. Queries: 6 edits of each photo (the misses of issue
18) and 200 fresh generated pictures that must match nothing. A query "finds" its photo when
the signal matches that photo at its default threshold; any other match is a false positive.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont
from skimage import data as sample_data

from cvis.index.signal_index import Pdq256Index
from cvis.signals.image import hash_image_bytes
from cvis.signals.keypoints import KeypointIndex, OrbSignal
from cvis.signals.pdq import PdqSignal

PHOTOS = ("chelsea", "coffee", "rocket", "motorcycle_left", "hubble_deep_field",
          "immunohistochemistry", "retina", "coins", "moon", "page", "text", "clock", "cell",
          "sklearn:china.jpg", "sklearn:flower.jpg", "perception:image1.jpg",
          "perception:image2.jpg", "perception:image4.jpg", "perception:image9.jpg",
          "perception:image10.jpg")
HARD_NEGATIVES = ("brick", "grass", "gravel", "horse", "logo", "checkerboard")


def _shipped(name: str) -> Path:
    """Benign photos shipped inside packages: scikit-learn's two and perception's test set."""
    package, _, file = name.partition(":")
    if package == "sklearn":
        import sklearn.datasets

        return Path(sklearn.datasets.__file__).parent / "images" / file
    import perception

    return Path(perception.__file__).parent / "testing" / "images" / file


def sample(name: str) -> Image.Image:
    if ":" in name:
        with Image.open(_shipped(name)) as opened:
            pixels = np.asarray(opened.convert("RGB"))
    elif hasattr(sample_data, name):
        pixels = getattr(sample_data, name)()
    else:  # shipped as a file only
        with Image.open(Path(sample_data.__file__).parent / f"{name}.png") as opened:
            pixels = np.asarray(opened.convert("RGB"))
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[..., :3]
    image = Image.fromarray(pixels).convert("RGB")
    if min(image.size) < 300:  # small samples are scaled up: photos are rarely this small
        scale = 300 / min(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    return image


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- the edits of issue 18 ------------------------------------------------------------------


def crop_edges(image: Image.Image, share: float = 0.03) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * share), round(h * share)
    return image.crop((dx, dy, w - dx, h - dy))


def rotate(image: Image.Image, degrees: float = 2.0) -> Image.Image:
    return crop_edges(image.rotate(degrees, resample=Image.Resampling.BICUBIC), 0.03)


def watermark(image: Image.Image) -> Image.Image:
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = max(16, image.width // 12)
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.load_default(size)
    except TypeError:
        font = ImageFont.load_default()
    for row in range(3):
        y = image.height * (row + 1) // 4 - size // 2
        draw.text((image.width // 10, y), "SAMPLE  (c) 2026", fill=(255, 255, 255, 150),
                  font=font)
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def portrait(image: Image.Image) -> Image.Image:
    w, h = image.size
    if h > w:  # a portrait picture: take a landscape strip instead
        strip = round(w * 3 / 4)
        return image.crop((0, (h - strip) // 3, w, (h - strip) // 3 + strip))
    width = round(h * 3 / 4)
    left = (w - width) // 3  # off-centre, as people crop
    return image.crop((left, 0, left + width, h))


def colour_grade(image: Image.Image) -> Image.Image:
    pixels = np.asarray(image).astype(np.float32) / 255.0
    graded = pixels ** 0.8 * np.array([1.08, 0.97, 0.85]) + np.array([0.02, 0.0, 0.04])
    out = Image.fromarray(np.clip(graded * 255, 0, 255).astype(np.uint8))
    return ImageEnhance.Contrast(ImageEnhance.Color(out).enhance(1.3)).enhance(1.1)


def pad(image: Image.Image) -> Image.Image:
    w, h = image.size
    canvas = Image.new("RGB", (round(w * 1.2), round(h * 1.3)), (20, 20, 20))
    canvas.paste(image, (round(w * 0.05), round(h * 0.2)))
    return canvas


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "crop 3% of each edge": crop_edges,
    "rotation by 2 degrees": rotate,
    "text watermark": watermark,
    "portrait crop of a landscape": portrait,
    "colour-graded": colour_grade,
    "padding": pad,
}


# --- generated distractors ------------------------------------------------------------------


def generated(rng: np.random.Generator, size: tuple[int, int] = (400, 300)) -> Image.Image:
    """A busy picture of random shapes, lines and text over a gradient (no imagery)."""
    w, h = size
    base = np.linspace(rng.integers(0, 255, 3), rng.integers(0, 255, 3), w, dtype=np.float32)
    image = Image.fromarray(np.repeat(base[np.newaxis], h, axis=0).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(15, 40))):
        x0, y0 = int(rng.integers(-50, w)), int(rng.integers(-50, h))
        x1, y1 = x0 + int(rng.integers(10, 200)), y0 + int(rng.integers(10, 200))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        kind = int(rng.integers(0, 4))
        if kind == 0:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif kind == 1:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif kind == 2:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 8)))
        else:
            draw.text((x0, y0), "".join(chr(int(c)) for c in rng.integers(65, 90, 6)),
                      fill=colour)
    noise = rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))


# --- signals as a scan computes them ---------------------------------------------------------


class Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def run(self, name: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = fn()
        self.seconds[name] += time.perf_counter() - start
        self.counts[name] += 1
        return result

    def per_image_ms(self, name: str) -> float:
        return 1000 * self.seconds[name] / max(1, self.counts[name])


def pdq_known(data: bytes, timer: Timer) -> str:
    return timer.run("pdq", lambda: hash_image_bytes(data, dihedral=False,
                                                     trim_borders=False).pdq)  # type: ignore[return-value]


def pdq_queries(data: bytes, timer: Timer) -> list[str]:
    signals = timer.run("pdq", lambda: hash_image_bytes(data))  # all a scan looks up
    return signals.hashes()  # type: ignore[attr-defined,no-any-return]


def orb_values(data: bytes, known: bool, timer: Timer) -> list[str]:
    """As a scan (query) or sets import-media (known) computes them."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    values: list[str] = timer.run("orb", lambda: OrbSignal.from_pixels(pixels))  # type: ignore[assignment]
    return OrbSignal.known_values(values) if known else values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--distractors", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    timer = Timer()
    started = time.perf_counter()

    known: list[tuple[str, bytes]] = [(f"photo:{n}", jpeg(sample(n), 92)) for n in PHOTOS]
    known += [(f"hard:{n}", jpeg(sample(n), 92)) for n in HARD_NEGATIVES]
    known += [(f"gen:{i}", jpeg(generated(rng), 85)) for i in range(args.distractors)]
    pdq_ids, pdq_values, orb_ids, orb_media, orb_vals = [], [], [], [], []
    owner: dict[int, str] = {}
    for media, (name, data) in enumerate(known):
        owner[media] = name
        pdq_ids.append(media)
        pdq_values.append(pdq_known(data, timer))
        for value in orb_values(data, True, timer):
            orb_ids.append(media)  # the index reports a media's first id: the media itself
            orb_media.append(media)
            orb_vals.append(value)
    hashed_at = time.perf_counter()
    pdq_index = Pdq256Index.build(pdq_ids, pdq_values, pdq_ids)
    orb_index = KeypointIndex.build(orb_ids, orb_vals, orb_media)
    indexed_at = time.perf_counter()

    queries = [(edit, name, jpeg(fn(sample(name.split(":", 1)[1])), 85))
               for edit, fn in EDITS.items() for name, _ in known[: len(PHOTOS)]]
    queries += [("unrelated (must match nothing)", "", jpeg(generated(rng), 85))
                for _ in range(200)]
    found: dict[tuple[str, str], int] = defaultdict(int)
    false: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    search = {"pdq": 0.0, "orb": 0.0}
    for edit, truth, data in queries:
        total[edit] += 1
        start = time.perf_counter()
        pdq_hits = {owner[i] for hits in pdq_index.search(pdq_queries(data, timer),
                                                          PdqSignal.default_threshold)
                    for i, _ in hits}
        search["pdq"] += time.perf_counter() - start
        values = orb_values(data, False, timer)
        start = time.perf_counter()
        orb_hits = {owner[i] for hits in orb_index.search(OrbSignal.query_values(values),
                                                          OrbSignal.default_threshold)
                    for i, _ in hits}
        search["orb"] += time.perf_counter() - start
        for signal, hits in (("pdq", pdq_hits), ("orb", orb_hits), ("either", pdq_hits | orb_hits)):
            found[(edit, signal)] += truth in hits
            false[signal] += len(hits - {truth})
    done = time.perf_counter()

    print(f"known pictures: {len(known)} ({args.distractors} generated distractors, "
          f"{len(HARD_NEGATIVES)} hard negatives); orb keypoints indexed: {len(orb_index)}")
    print(f"queries: {len(queries)}; load (uptime): {os.getloadavg()[0]:.1f}; "
          f"total {done - started:.0f} s (hashing the known {hashed_at - started:.0f} s, "
          f"indexing {indexed_at - hashed_at:.1f} s)")
    print()
    print("| edit | copies | PDQ (as scanned) | ORB keypoints | either |")
    print("|---|---|---|---|---|")
    for edit in [*EDITS, "unrelated (must match nothing)"]:
        if edit in EDITS:
            row = " | ".join(f"{found[(edit, s)]}/{total[edit]} "
                             f"({found[(edit, s)] / total[edit]:.2f})"
                             for s in ("pdq", "orb", "either"))
            print(f"| {edit} | {total[edit]} | {row} |")
    print(f"| false positives (all {len(queries)} queries) | | {false['pdq']} | {false['orb']} "
          f"| {false['either']} |")
    print()
    print("| cost per image | PDQ | ORB |")
    print("|---|---|---|")
    print(f"| hashing (decode excluded for ORB, included for PDQ), ms | "
          f"{timer.per_image_ms('pdq'):.1f} | {timer.per_image_ms('orb'):.1f} |")
    print(f"| search per query, ms | {1000 * search['pdq'] / len(queries):.2f} | "
          f"{1000 * search['orb'] / len(queries):.2f} |")
    stored_orb = 36 * len(orb_index) / len(known)
    print(f"| stored per known picture, bytes | 32 | {stored_orb:.0f} |")


if __name__ == "__main__":
    main()
