"""Scans of the same generated pictures from a folder and from an S3 prefix, local and on
Spark (local mode), side by side: wall time, items/s and whether the results are identical.

    .venv/bin/python benchmarks/scan_sources.py [--count 1000] [--workers 2] [--workdir DIR]

The S3 server is moto's (a Python process on loopback, started here), so the object-store
rows measure cvis's listing and reading over HTTP against a slow server, not S3 itself.
Needs the dev extras (moto[server]) and, for the Spark rows, pyspark and a JVM.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.intake import make_pictures  # noqa: E402


def _rows(store: Any, scan_id: int, root: str) -> dict[str, tuple[Any, ...]]:
    from cvis.identify.scan import iter_scan_results

    with store.session() as session:
        return {r["path"].removeprefix(root): (r["md5"], r["pdq"], r["error"],
                                              tuple((m["media_id"], m["distance"])
                                                    for m in r["matches"]))
                for r in iter_scan_results(session, scan_id)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cvis-scan-sources-"))
    # the store, the server and every process that reads it must agree before any starts
    from tests.object_store_helpers import s3_server  # sets the AWS variables

    os.environ["CVIS_HOME"] = str(workdir / "home")
    os.environ.pop("CVIS_DATABASE_URL", None)
    with s3_server():
        run(workdir, args.count, args.workers, not args.no_spark)
    print(f"load average: {os.getloadavg()}")


def run(workdir: Path, count: int, workers: int, spark: bool) -> None:
    from tests.object_store_helpers import STORE

    folder = workdir / "pictures"
    size = make_pictures(folder, count)
    started = time.monotonic()
    prefix = STORE.upload(folder, "bench", "pictures")
    print(f"{count} JPEGs, {size / 1e6:.1f} MB; uploaded in {time.monotonic() - started:.1f} s")

    from cvis.cases.scanning import run_scan
    from cvis.evidence.custody import folder_manifest
    from cvis.evidence.objects import object_manifest
    from cvis.identify.scan import ScanRequest
    from cvis.store.db import Store

    # the custody read each scan's row includes (once per case): a folder's and a prefix's
    for label, read in (("folder", lambda: folder_manifest(folder)),
                        ("s3 prefix", lambda: object_manifest(prefix))):
        started = time.monotonic()
        read()
        print(f"custody manifest, {label:9s} {time.monotonic() - started:7.2f} s")

    store = Store()
    runs = [("local, folder", [folder], "local", str(folder)),
            ("local, s3 prefix", [prefix], "local", prefix.rstrip("/"))]
    if spark:
        from cvis.identify.spark_engine import spark_session

        started = time.monotonic()
        spark_session(f"local[{workers}]")
        print(f"Spark session started in {time.monotonic() - started:.1f} s")
        runs += [("spark, folder", [folder], "spark", str(folder)),
                 ("spark, s3 prefix", [prefix], "spark", prefix.rstrip("/"))]
    reference: dict[str, tuple[Any, ...]] | None = None
    for n, (label, paths, engine, root) in enumerate(runs):
        started = time.monotonic()
        scan_id = run_scan(store, ScanRequest(f"BENCH-{n}", paths, workers=workers,
                                              engine=engine))
        wall = time.monotonic() - started
        rows = _rows(store, scan_id, root)
        reference = reference or rows
        print(f"{label:18s} {wall:7.1f} s  {len(rows) / wall:7.1f} items/s  "
              f"identical to the folder scan: {rows == reference}")


if __name__ == "__main__":
    main()
