"""Benchmark: `cvis lookup` as a whole process vs a plain FAISS IndexBinaryFlat script.

    python benchmarks/lookup.py --size 2000000 --queries 20000 --dir /tmp/cvis-lookup
    python benchmarks/lookup.py --size 500000 --queries 5000      # a lighter run

Both sides get the same synthetic structured PDQ set (benchmarks/index.py's generator:
random hashes, near-duplicate clusters, low-entropy hashes; no imagery) and the same
query file, and both are timed as whole processes from start to exit. cvis reads the
store, answers each line with its matches as JSON lines and writes them to a file; the
FAISS script loads the hashes from a .npy file, range-searches and saves the raw hits.
The result sets are compared: (query line, known media, distance) must be identical.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from index import make_dataset, make_queries  # noqa: E402

FAISS_SCRIPT = """
import sys, numpy as np, faiss
data = np.load(sys.argv[1])
queries = np.frombuffer(bytes.fromhex("".join(open(sys.argv[2]).read().split())),
                        dtype=np.uint8).reshape(-1, 32)
index = faiss.IndexBinaryFlat(256)
index.add(data)
lims, d, i = index.range_search(queries, int(sys.argv[3]) + 1)  # FAISS: strictly below
q = np.repeat(np.arange(queries.shape[0]), np.diff(lims).astype(np.int64))
np.savez(sys.argv[4], q=q, i=i, d=d)
"""


def prepare(work: Path, size: int, count: int, seed: int) -> None:
    """The store (one set, media M<row>), the .npy for FAISS and the query file."""
    if (work / "ready").exists():
        return
    from cvis.config import Settings
    from cvis.hashsets.service import import_file
    from cvis.store.db import Store

    data = make_dataset(size, seed)
    np.save(work / "known.npy", data)
    queries = make_queries(data, count, seed)
    (work / "queries.txt").write_text("".join(row.tobytes().hex() + "\n" for row in queries))
    with (work / "known.csv").open("w") as out:
        out.write("media_id,pdq\n")
        out.writelines(f"M{n},{row.tobytes().hex()}\n" for n, row in enumerate(data))
    store = Store(Settings(home=work, database_url=f"sqlite:///{work / 'bench.db'}"))
    started = time.perf_counter()
    with store.session() as session:
        report = import_file(session, work / "known.csv", name="bench", skip_bad=True)
    print(f"imported {report.added:,} records in {time.perf_counter() - started:.0f} s")
    store.dispose()
    (work / "ready").write_text("")


def timed_run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def cvis_hits(path: Path) -> set[tuple[int, int, int]]:
    hits = set()
    with path.open("rb") as rows:
        for line_no, line in enumerate(rows):
            for m in orjson.loads(line)["matches"]:
                hits.add((line_no, int(m["media_id"][1:]), m["distance"]))
    return hits


def faiss_hits(path: Path) -> set[tuple[int, int, int]]:
    raw = np.load(path)
    return set(zip(raw["q"].tolist(), raw["i"].tolist(), raw["d"].tolist(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=2_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--threshold", type=int, default=31)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--cvis-src", type=Path, default=None,
                        help="Another checkout's src/ to time instead (e.g. main's, for before)")
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="cvis-lookup-"))
    work.mkdir(parents=True, exist_ok=True)
    prepare(work, args.size, args.queries, args.seed)
    env = {**os.environ, "CVIS_HOME": str(work),
           "CVIS_DATABASE_URL": f"sqlite:///{work / 'bench.db'}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, not every run
    if args.cvis_src:
        env["PYTHONPATH"] = str(args.cvis_src.resolve())
    out = work / "cvis.jsonl"
    lookup = [sys.executable, "-m", "cvis.cli.app", "lookup", str(work / "queries.txt"),
              "--sets", "bench", "--signal", "pdq", "--jsonl", str(out)]
    faiss = [sys.executable, "-c", FAISS_SCRIPT, str(work / "known.npy"),
             str(work / "queries.txt"), str(args.threshold), str(work / "faiss.npz")]
    print(f"index cache warm-up (first lookup builds it): {timed_run(lookup, env):.1f} s")
    print(f"load: {os.getloadavg()}")
    for _ in range(args.repeat):
        ours, theirs = timed_run(lookup, env), timed_run(faiss, env)
        print(f"cvis lookup {ours:.2f} s, FAISS flat {theirs:.2f} s: {theirs / ours:.1f}x "
              f"(load {os.getloadavg()[0]:.1f})")
    a, b = cvis_hits(out), faiss_hits(work / "faiss.npz")
    print(f"hits: cvis {len(a):,}, FAISS {len(b):,}; identical: {a == b}")


if __name__ == "__main__":
    main()
