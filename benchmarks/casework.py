"""Casework costs: a folder manifest for custody, and a report over a re-scanned case.

    python benchmarks/casework.py --files 2000 --workdir DIR [--database-url URL]

1. ``folder_manifest``: what recording (and later verifying) a folder costs: every file
   read and hashed once more beside the scan. Files are generated benign JPEG crops.
2. ``build_report`` on a case whose folder was scanned twice (``--restart``): every
   figure de-duplicated by file. Hashing is not timed (the scans are only the setup).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from PIL import Image
from skimage import data as sample_data

from cvis.cases.report import build_report
from cvis.cases.scanning import run_scan
from cvis.config import Settings
from cvis.evidence.custody import folder_manifest, manifest_sha256
from cvis.identify.scan import ScanRequest
from cvis.store.db import Store


def make_folder(folder: Path, count: int) -> int:
    photo = Image.fromarray(sample_data.astronaut()).convert("RGB")
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for i in range(count):
        x, y = (i * 7) % 384, (i * 13) % 384
        path = folder / f"IMG_{i:05d}.jpg"
        photo.crop((x, y, x + 128, y + 128)).save(path, quality=85)
        size += path.stat().st_size
    return size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    folder = args.workdir / "evidence"
    size = make_folder(folder, args.files)
    print(f"load average before: {os.getloadavg()}")

    started = time.perf_counter()
    entries = folder_manifest(folder)
    digest = manifest_sha256(entries)
    seconds = time.perf_counter() - started
    print(f"manifest: {len(entries)} files, {size / 1e6:.1f} MB in {seconds:.2f} s "
          f"({len(entries) / seconds:,.0f} files/s, {size / 1e6 / seconds:.0f} MB/s), "
          f"sha256 {digest}")

    home = args.workdir / "home"
    url = args.database_url or f"sqlite:///{home / 'cvis.db'}"
    store = Store(Settings(home=home, database_url=url))
    run_scan(store, ScanRequest("BENCH-1", [folder], workers=2))
    run_scan(store, ScanRequest("BENCH-1", [folder], workers=2, restart=True))
    started = time.perf_counter()
    with store.session() as session:
        report = build_report(session, "BENCH-1")
    seconds = time.perf_counter() - started
    print(f"report: {report['summary']['files']} files (2 scans of {args.files}) "
          f"in {seconds:.2f} s on {url.split(':', 1)[0]}")
    print(f"load average after: {os.getloadavg()}")
    store.dispose()
    sys.exit(0 if report["summary"]["files"] == args.files else 1)


if __name__ == "__main__":
    main()
