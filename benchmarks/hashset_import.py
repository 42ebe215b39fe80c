"""Import a generated hash list into a fresh SQLite store; print records/s and peak memory.

    .venv/bin/python benchmarks/hashset_import.py --records 10000000 --format csv

The list is synthetic (md5/sha1 of counters), so nothing but hashes is involved.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import TextIO

from cvis.config import Settings
from cvis.hashsets.service import import_file
from cvis.store.db import Store


def generate(path: Path, count: int, fmt: str) -> None:
    """Write ``count`` records: media id, md5, sha1, a category and a series every 50th
    (plain: an md5 a line; hma: md5 rows; vics: also flags and a MediaSize kept as extra)."""
    with path.open("w", encoding="utf-8") as out:
        if fmt == "vics":
            _generate_vics(out, count)
            return
        if fmt == "csv":
            out.write("media_id,md5,sha1,category,series\n")
        elif fmt == "hma":
            out.write("signal_type,signal_value,media_id\n")
        for i in range(count):
            seed = i.to_bytes(8, "little")
            md5 = hashlib.md5(seed).hexdigest()
            if fmt == "plain":
                out.write(md5 + "\n")
            elif fmt == "hma":
                out.write(f"md5,{md5},M{i}\n")
            else:
                sha1 = hashlib.sha1(seed).hexdigest()
                series = f"series-{i // 50}" if i % 50 == 0 else ""
                out.write(f"M{i},{md5},{sha1},{i % 3},{series}\n")


def _generate_vics(out: TextIO, count: int) -> None:
    out.write('{"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",'
              ' "value": [')
    for i in range(count):
        seed = i.to_bytes(8, "little")
        media = {"MediaID": i, "Category": i % 3, "MD5": hashlib.md5(seed).hexdigest().upper(),
                 "SHA1": hashlib.sha1(seed).hexdigest().upper(), "MediaSize": 10_000 + i,
                 "IsDistributed": True, "VictimIdentified": i % 7 == 0}
        if i % 50 == 0:
            media["Series"] = f"series-{i // 50}"
        out.write(("," if i else "") + "\n  " + json.dumps(media))
    out.write("\n]}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--format", default="csv", choices=["csv", "plain", "hma", "vics"])
    parser.add_argument("--dir", type=Path, default=None, help="Work directory (default: tmp).")
    parser.add_argument("--database-url", default=None,
                        help="An empty database to import into instead of a fresh SQLite file "
                             "(e.g. postgresql+psycopg://postgres@127.0.0.1/cvis_bench).")
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="cvis-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"list-{args.records}.{args.format}"
    if not source.exists():
        started = time.perf_counter()
        generate(source, args.records, args.format)
        print(f"generated {source} in {time.perf_counter() - started:.1f} s")
    db = work / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = Store(Settings(home=work, database_url=args.database_url or f"sqlite:///{db}"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    done = [0]

    def progress(records: int, position: int, finishing: bool) -> None:
        if finishing:
            print(f"  read all {records:,} records in {time.perf_counter() - started:.0f} s; "
                  "rebuilding indexes and committing", flush=True)
            return
        before, done[0] = done[0], records
        if done[0] // 1_000_000 > before // 1_000_000:
            now = time.perf_counter()
            print(f"  {done[0]:,} records ({position / 2**20:,.0f} MiB), {now - started:.0f} s, "
                  f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
                  flush=True)

    with store.session() as session:
        report = import_file(session, source, name="bench", format_name=args.format,
                             on_progress=progress)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
          f"python {platform.python_version()}")
    print(f"format {args.format}: {report.added:,} records added in {elapsed:.1f} s "
          f"= {report.added / elapsed:,.0f} records/s")
    reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = f"database {db.stat().st_size / 2**20:.0f} MiB" if db.exists() else args.database_url
    print(f"peak RSS {peak / 1024:.0f} MiB (before import {rss_before / 1024:.0f} MiB), "
          f"reader process {reader / 1024:.0f} MiB; {size}")
    store.dispose()


if __name__ == "__main__":
    main()
