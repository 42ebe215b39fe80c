"""Registry cross-matching at scale: synthetic registrants against a synthetic index.

    python benchmarks/linkage.py --registrants 300000 --index-records 3000000

Generates Faker people (several locales, realistic name variants) as Parquet,
then runs `cvis link run` end to end in a child process and prints its wall
time, peak memory (max RSS of the child) and precision/recall against the
known true links. All people are synthetic.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cvis.linkage import synthetic


def generate(work: Path, registrants: int, index_records: int, seed: int) -> None:
    t0 = time.perf_counter()
    data = synthetic.generate(registrants, index_records, seed=seed, pool_size=3000)
    data.registry.to_parquet(work / "registry.parquet", index=False)
    data.index.to_parquet(work / "inmates.parquet", index=False)
    (work / "inmates.toml").write_text(data.index_mapping, encoding="utf-8")
    pd.DataFrame(sorted(data.true_links), columns=["registry_id", "record_id"]).to_parquet(
        work / "truth.parquet", index=False)
    print(f"generated {registrants:,} registrants and {index_records:,} index records "
          f"in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--registrants", type=int, default=300_000)
    p.add_argument("--index-records", type=int, default=3_000_000)
    p.add_argument("--work", type=Path, default=Path("out/linkage-bench"))
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--training-sample", type=int, default=200_000,
                   help="rows per side used to train the model (the run then reuses it)")
    p.add_argument("--engine", default="duckdb")
    args = p.parse_args()

    work = args.work / f"{args.registrants}x{args.index_records}"
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "truth.parquet").exists():
        generate(work, args.registrants, args.index_records, args.seed)
    state, out = work / "state", work / "out"
    if state.exists():
        for f in sorted(state.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
    load_before = os.getloadavg()
    cmd = [sys.executable, "-c", "from cvis.cli.link import link_app; link_app()", "run",
           "--registry", str(work / "registry.parquet"),
           "--index", f"inmates={work / 'inmates.parquet'}",
           "--mapping", f"inmates={work / 'inmates.toml'}",
           "--engine", args.engine, "--training-sample", str(args.training_sample), "--retrain",
           "--state", str(state), "--out", str(out), "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib, cpu_s = usage.ru_maxrss, usage.ru_utime + usage.ru_stime

    links = pd.read_csv(out / "links.csv", dtype=str)
    truth = pd.read_parquet(work / "truth.parquet")
    found = set(zip(links.registry_id, links.record_id, strict=True))
    true = set(zip(truth.registry_id, truth.record_id, strict=True))
    tp = len(found & true)
    precision, recall = tp / max(len(found), 1), tp / max(len(true), 1)
    run = json.loads((out / "run.json").read_text())
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "load_average_before": load_before,
        "load_average_at_end": os.getloadavg(),
        "registrants": args.registrants,
        "index_records": args.index_records,
        "engine": args.engine,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu_s, 1),  # user + system; what the run costs without contention
        "peak_rss_mib": round(peak_kib / 1024),
        "links": len(found),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "stage_timings_s": run["timings_s"],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
