"""Scan throughput: `cvis scan` of a folder of camera-size JPEGs, whole process, items/s.

    python benchmarks/scan.py --count 10000 --workdir DIR [--workers 2] \
        [--baseline-src /path/to/other/checkout/src]

Pictures: benign crops of scikit-image's sample photos (no people), each a different crop
and gain, ``--megapixels`` (default 3: 2000 x 1500) JPEG q88, made once in DIR/pictures and
reused. The known set (imported before the timed scan, not timed): the md5 of every 100th
picture, the PDQ of every 100th picture offset by 50, and 20,000 random md5 and PDQ
distractors. Each source tree (``--baseline-src`` first, then this checkout's) gets a fresh
CVIS_HOME and runs the same command; the item rows (hashes and matches) are compared.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import skimage
from PIL import Image

SAMPLES = Path(skimage.__file__).parent / "data"
PHOTOS = ("chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg")


def _base(name: str, width: int, height: int) -> np.ndarray:
    with Image.open(SAMPLES / name) as image:
        big = image.convert("RGB").resize((width * 6 // 5, height * 6 // 5),
                                          Image.Resampling.BICUBIC)
    return np.asarray(big)


def _make_range(args: tuple[Path, int, int, float]) -> None:
    folder, start, stop, megapixels = args
    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    bases = [_base(name, width, height) for name in PHOTOS]
    for i in range(start, stop):
        rng = random.Random(i)
        base = bases[i % len(bases)]
        y, x = rng.randrange(base.shape[0] - height), rng.randrange(base.shape[1] - width)
        gain = np.clip(np.arange(256) * rng.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
        crop = gain[base[y:y + height, x:x + width]]
        Image.fromarray(crop).save(folder / f"IMG_{i:05d}.jpg", quality=88)


def make_pictures(folder: Path, count: int, megapixels: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.jpg"))) == count:
        return
    step = 250
    jobs = [(folder, s, min(count, s + step), megapixels) for s in range(0, count, step)]
    with multiprocessing.Pool(2) as pool:
        pool.map(_make_range, jobs)


def make_known(pictures: Path, target: Path, count: int, src: Path) -> None:
    """The known set: real md5s and PDQs of a few pictures, random distractors."""
    code = (
        "import sys, json, hashlib\n"
        "from cvis.signals.image import hash_image_bytes\n"
        "for p in sys.argv[1:]:\n"
        "    d = open(p, 'rb').read()\n"
        "    print(json.dumps([hashlib.md5(d).hexdigest(), hash_image_bytes(d).pdq]))\n"
    )
    picked = [pictures / f"IMG_{i:05d}.jpg" for i in range(0, count, 100)]
    picked += [pictures / f"IMG_{i:05d}.jpg" for i in range(50, count, 100)]
    out = subprocess.run([sys.executable, "-c", code, *map(str, picked)], check=True,
                         capture_output=True, text=True, env=_env(src, target.parent)).stdout
    hashes = [json.loads(line) for line in out.splitlines()]
    half = len(hashes) // 2
    rng = random.Random(7)
    with target.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["media_id", "md5", "pdq", "category"])
        for n, (md5, _) in enumerate(hashes[:half]):
            writer.writerow([f"K{n}", md5, "", 1])
        for n, (_, pdq) in enumerate(hashes[half:]):
            writer.writerow([f"P{n}", "", pdq, 1])
        for n in range(20_000):
            writer.writerow([f"D{n}", f"{rng.getrandbits(128):032x}",
                             f"{rng.getrandbits(256):064x}", 1])


def _env(src: Path, home: Path) -> dict[str, str]:
    # As installed: bytecode compiled once, even where the shell sets PYTHONDONTWRITEBYTECODE
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CVIS_") and k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(src), "CVIS_HOME": str(home)}


def run_scan(label: str, src: Path, work: Path, workers: int) -> tuple[float, list[dict]]:
    home = work / f"home-{label}"
    subprocess.run(["rm", "-rf", str(home)], check=True)
    home.mkdir()
    cvis = [sys.executable, "-m", "cvis.cli.app"]
    env = _env(src, home)
    subprocess.run([*cvis, "sets", "import", str(work / "known.csv"), "--name", "bench"],
                   check=True, env=env, capture_output=True)
    out = home / "scan.jsonl"
    load = os.getloadavg()[0]
    started = time.perf_counter()
    subprocess.run([*cvis, "scan", str(work / "pictures"), "--case", "BENCH", "--sets", "bench",
                    "--workers", str(workers), "--quiet", "--jsonl", str(out)],
                   check=True, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    matched = sum(bool(r["matches"]) for r in rows)
    print(f"| {label} | {src} | {workers} | {len(rows)} | {matched} | {elapsed:.1f} | "
          f"{len(rows) / elapsed:.1f} | {load:.1f} → {os.getloadavg()[0]:.1f} |", flush=True)
    return elapsed, rows


def _differences(a: list[dict], b: list[dict]) -> str:
    keys = ("path", "size", "md5", "sha1", "sha256", "error")
    exact = sum(x[k] != y[k] for x, y in zip(a, b, strict=True) for k in keys)
    pdq = sum(x["pdq"] != y["pdq"] for x, y in zip(a, b, strict=True))
    matches = sum({(m["set"], m["media_id"]) for m in x["matches"]}
                  != {(m["set"], m["media_id"]) for m in y["matches"]}
                  for x, y in zip(a, b, strict=True))
    return f"{exact} digest/path differences, {pdq} PDQ differences, {matches} match differences"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--megapixels", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--baseline-src", type=Path)
    parser.add_argument("--make-only", action="store_true")
    args = parser.parse_args()
    work = args.workdir.resolve()
    ours = Path(__file__).resolve().parents[1] / "src"
    make_pictures(work / "pictures", args.count, args.megapixels)
    if not (work / "known.csv").exists():
        make_known(work / "pictures", work / "known.csv", args.count, ours)
    if args.make_only:
        return
    print("| run | src | workers | items | matched | seconds | items/s | load |")
    print("|---|---|---|---|---|---|---|---|")
    results = {}
    if args.baseline_src:
        results["baseline"] = run_scan("baseline", args.baseline_src.resolve(), work, args.workers)
    results["cvis"] = run_scan("cvis", ours, work, args.workers)
    if "baseline" in results:
        (base_t, base_rows), (ours_t, our_rows) = results["baseline"], results["cvis"]
        print(f"\nspeed-up {base_t / ours_t:.2f}x; {_differences(base_rows, our_rows)}")


if __name__ == "__main__":
    main()
