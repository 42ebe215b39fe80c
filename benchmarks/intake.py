"""Intake throughput: items/s and MB/s for 10,000 generated pictures in a folder, a zip and a
raw FAT disk image, at 1 and 2 workers (hashing only: md5, sha1, sha256 and PDQ per item).

    .venv/bin/python benchmarks/intake.py [--count 10000] [--workdir DIR]

Needs mkfs.vfat and mcopy (Debian: dosfstools, mtools) for the disk image row.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from cvis.identify.hashpool import hash_items
from cvis.media.folders import iter_media


def make_pictures(folder: Path, count: int) -> int:
    """Benign crops of scikit-image's sample photos, 128x128 JPEG, each different."""
    folder.mkdir(parents=True)
    sources = [np.asarray(Image.fromarray(getattr(data, n)()).convert("RGB"))
               for n in ("chelsea", "coffee", "rocket", "astronaut")]
    total = 0
    for i in range(count):
        src = sources[i % len(sources)]
        y, x = (i * 7) % (src.shape[0] - 128), (i * 13) % (src.shape[1] - 128)
        path = folder / f"img{i:05d}.jpg"
        Image.fromarray(src[y:y + 128, x:x + 128]).save(path, quality=85)
        total += path.stat().st_size
    return total


def make_zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
        for path in sorted(folder.iterdir()):
            z.write(path, f"DCIM/{path.name}")


def make_fat(folder: Path, target: Path, payload: int) -> bool:
    if not (shutil.which("mkfs.vfat") and shutil.which("mcopy")):
        return False
    with target.open("wb") as f:
        f.truncate(max(64 << 20, payload * 2 + (32 << 20)))
    subprocess.run(["mkfs.vfat", "-F", "32", str(target)], check=True, capture_output=True)
    subprocess.run(["mcopy", "-s", "-i", str(target), str(folder), "::/DCIM"], check=True,
                   capture_output=True)
    return True


def measure(label: str, path: Path, workers: int) -> None:
    started = time.perf_counter()
    items = size = errors = 0
    for record in hash_items(iter_media([path]), workers):
        items += 1
        size += record.size or 0
        errors += record.error is not None
    elapsed = time.perf_counter() - started
    print(f"| {label} | {workers} | {items} | {errors} | {elapsed:.1f} | "
          f"{items / elapsed:.0f} | {size / elapsed / 1e6:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cvis-intake-"))
    folder = work / "pictures"
    payload = make_pictures(folder, args.count)
    make_zip(folder, work / "pictures.zip")
    has_fat = make_fat(folder, work / "card.img", payload)
    print(f"{args.count} pictures, {payload / 1e6:.1f} MB, on {platform.node()} "
          f"({platform.machine()}, Python {platform.python_version()})")
    print("| evidence | workers | items | errors | seconds | items/s | MB/s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for workers in (1, 2):
        measure("folder", folder, workers)
        measure("zip (stored)", work / "pictures.zip", workers)
        if has_fat:
            measure("raw FAT32 image", work / "card.img", workers)
    if not has_fat:
        print("raw disk image skipped: mkfs.vfat/mcopy not installed")


if __name__ == "__main__":
    main()
