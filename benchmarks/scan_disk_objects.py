"""A FAT card image of generated pictures, as a raw image and as an E01 set, scanned from a
local folder and from an S3 prefix, side by side: wall time, items/s, whether the results are
identical, and (in the store) how many ranged reads and bytes the reading took.

    PYTHONPATH=src:. .venv/bin/python benchmarks/scan_disk_objects.py [--count 300] [--mib 64]

Hashing runs in this process (one worker, `in_process`), so every read is counted. The S3
server is moto's (a Python process on loopback, started here): the store rows measure cvis's
reading over HTTP against a slow server, not S3 itself. Needs mtools, dosfstools and
ewf-tools (Debian), moto[server] (dev extras).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.intake import make_pictures  # noqa: E402


def card(workdir: Path, count: int, mib: int) -> Path:
    """evidence/raw/card.img and evidence/card.E01... (16 MiB segments, uncompressed)."""
    from tests.disk_image_helpers import e01_set, run

    pictures = workdir / "pictures"
    make_pictures(pictures, count)
    image = workdir / "card.img"
    with image.open("wb") as f:
        f.truncate(mib << 20)
    run("mkfs.vfat", "-n", "CARD", image)
    run("mcopy", "-s", "-i", image, pictures, "::/DCIM")
    evidence = workdir / "evidence"
    (evidence / "raw").mkdir(parents=True)
    shutil.copy(image, evidence / "raw" / "card.img")
    for segment in e01_set(image, workdir / "card", segment_mib=16):
        shutil.copy(segment, evidence / segment.name)
    return evidence


def scan(paths: list[str]) -> tuple[float, dict[str, Any]]:
    from cvis.identify.hashpool import hash_items
    from cvis.media.folders import iter_media
    from cvis.media.locate import clear_cache

    clear_cache()
    started = time.monotonic()
    rows = {r.path: (r.md5, r.sha256, r.pdq, r.error, tuple(r.flags))
            for r in hash_items(iter_media(paths), 1, in_process=True)}
    return time.monotonic() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cvis-disk-objects-"))
    from tests.object_store_helpers import STORE, s3_server  # sets the AWS variables

    from cvis.media import objects

    evidence = card(workdir, args.count, args.mib)
    fetched: list[int] = []
    fetch = objects.ReadCache.fetch

    def counted(self: Any, source: Any, start: int, size: int) -> bytes:
        data = fetch(self, source, start, size)
        fetched.append(len(data))
        return data

    objects.ReadCache.fetch = counted  # type: ignore[method-assign]
    with s3_server():
        prefix = STORE.upload(evidence, "bench-disks", "card")
        for name in ("raw/card.img", "card.E01"):
            local_wall, local = scan([str(evidence / name)])
            fetched.clear()
            store_wall, stored = scan([f"{prefix}{name}"])
            same = ({k.removeprefix(str(evidence / name)): v for k, v in local.items()}
                    == {k.removeprefix(f"{prefix}{name}"): v for k, v in stored.items()})
            print(f"{name:13s} {len(local)} items: local {local_wall:6.2f} s "
                  f"({len(local) / local_wall:6.1f}/s), s3 {store_wall:6.2f} s "
                  f"({len(stored) / store_wall:6.1f}/s), identical: {same}; s3 cached reads "
                  f"{len(fetched)}, {sum(fetched) / 2**20:.1f} MiB of a {args.mib} MiB image")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
