"""Benchmark: cvis PdqIndex vs FAISS IndexBinaryFlat and IndexBinaryMultiHash (issue 5).

    python benchmarks/index.py --size 10000000            # the issue's "Measured" run
    python benchmarks/index.py --size 1000000
    python benchmarks/index.py --size 100000000 --queries 2000 --baseline-queries 100 \
        --stream DIR    # hashes generated to DIR/hashes.npy in chunks; build, save, serve

Synthetic PDQ-like data (no imagery): uniform random hashes, clusters of near-duplicates
(Pareto-sized, members 1-16 bits from their centre) and low-entropy hashes (sparse bits
near all-zero / all-one, repeated 32-bit patterns, exact all-zero hashes), like the
crowded buckets of real sets. Half the queries are stored hashes with 1-31 bits flipped.

Memory is given two ways: the bytes of the index's arrays, and the resident memory a
serving process gains by loading the saved index (memory-mapped) and answering every
query: anonymous memory plus the pages of the mapped files it touched (``VmRSS`` after
minus before, from /proc/self/status).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from cvis.index import PdqIndex

HERE = Path(__file__).resolve().parent


def flip_bits(rows: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip up to counts[i] random bits of row i ((n, 32) uint8; repeats flip once)."""
    out = rows.copy()
    width = int(counts.max()) if counts.size else 0
    for start in range(0, rows.shape[0], 500_000):
        part = slice(start, start + 500_000)
        k = out[part].shape[0]
        pos = rng.integers(0, 256, (k, width))
        use = np.arange(width) < counts[part, None]
        mask = np.zeros((k, 256), dtype=bool)
        mask[np.nonzero(use)[0], pos[use]] = True
        out[part] ^= np.packbits(mask, axis=1)
    return out


def random_hashes(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def sparse_hashes(n: int, p: float, base: int, rng: np.random.Generator) -> np.ndarray:
    bits = rng.random((n, 256), dtype=np.float32) < p
    return np.packbits(bits, axis=1) ^ np.uint8(base)


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    sizes = np.clip((rng.pareto(1.2, n // 4 + 1) + 1) * 3, 2, 5000).astype(np.int64)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    sizes[-1] -= sizes.sum() - n
    centres = random_hashes(sizes.size, rng)
    members = np.repeat(centres, sizes, axis=0)
    return flip_bits(members, rng.integers(1, 17, n), rng)


def patterned(n: int, rng: np.random.Generator) -> np.ndarray:
    patterns = rng.integers(0, 256, (max(1, n // 200), 4), dtype=np.uint8)
    rows = np.tile(patterns[rng.integers(0, patterns.shape[0], n)], (1, 8))
    return flip_bits(rows, rng.integers(0, 9, n), rng)


def make_dataset(n: int, seed: int) -> np.ndarray:
    """85% random, 12% near-duplicate clusters, 3% low-entropy; shuffled."""
    rng = np.random.default_rng(seed)
    n_clu, n_low = int(n * 0.12), int(n * 0.03)
    n_zero = n_low // 10
    n_sparse = (n_low - n_zero) // 3
    parts = [
        random_hashes(n - n_clu - n_low, rng),
        clustered(n_clu, rng),
        sparse_hashes(n_sparse, 0.02, 0x00, rng),
        sparse_hashes(n_sparse, 0.02, 0xFF, rng),
        patterned(n_low - n_zero - 2 * n_sparse, rng),
        np.zeros((n_zero, 32), dtype=np.uint8),
    ]
    data = np.concatenate(parts)
    return data[rng.permutation(n)]


def make_queries(data: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    half = count // 2
    planted = flip_bits(data[rng.integers(0, data.shape[0], half)], rng.integers(1, 32, half), rng)
    return np.concatenate([planted, random_hashes(count - half, rng)])


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds of this process (all threads), result. On a shared machine
    the CPU figure is the steadier one."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def canonical(q: np.ndarray, ids: np.ndarray, d: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    key = q.astype(np.int64) * n + ids.astype(np.int64)
    order = np.argsort(key)
    return key[order], d.astype(np.int32)[order]


def faiss_results(res: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> tuple:
    lims, dist, labels = res
    q = np.repeat(np.arange(lims.size - 1), np.diff(lims).astype(np.int64))
    return canonical(q, labels, dist, n)


def run_faiss(kind: str, data: np.ndarray, queries: np.ndarray, threshold: int) -> dict:
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    before = rss_bytes()
    if kind == "flat":
        build, index = timed(lambda: _faiss_flat(faiss, data))
    else:
        build, index = timed(lambda: _faiss_multihash(faiss, data, threshold))
    # Flat stores the codes and nothing else; the multi-hash maps are measured as RSS growth.
    mem = data.nbytes if kind == "flat" else rss_bytes() - before
    secs, cpu, res = timed_cpu(lambda: index.range_search(queries, threshold + 1))
    return {"build_s": build, "search_s": secs, "search_cpu": cpu, "bytes": mem,
            "results": faiss_results(res, data.shape[0]), "queries": queries.shape[0]}


def _faiss_flat(faiss, data):  # type: ignore[no-untyped-def]
    index = faiss.IndexBinaryFlat(256)
    index.add(data)
    return index


def _faiss_multihash(faiss, data, threshold):  # type: ignore[no-untyped-def]
    # As python-threatexchange's PDQMultiHashIndex: 16 maps of 16 bits, nflip = t // 16.
    index = faiss.IndexBinaryMultiHash(256, 16, 16)
    index.add(data)
    index.nflip = threshold // 16
    return index


def startup_seconds(directory: Path, query: np.ndarray, verify: bool = True) -> float:
    """Fresh interpreter: import, load (checksums verified), answer one query."""
    code = (
        "import time,sys;t=time.perf_counter();import numpy as np;"
        "from cvis.index import PdqIndex;"
        f"i=PdqIndex.load({str(directory)!r},verify={verify});"
        f"i.search(np.frombuffer(bytes.fromhex({query.tobytes().hex()!r}),np.uint8)[None],31);"
        "print(time.perf_counter()-t)"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return max(wall, float(out.stdout.strip()))


SERVE = """
import json, sys, time
from pathlib import Path
import numpy as np
from cvis.index import PdqIndex

def status():
    rows = (line.split() for line in Path("/proc/self/status").read_text().splitlines())
    return {r[0].rstrip(":"): int(r[1]) * 1024 for r in rows
            if r and r[0] in ("VmRSS:", "RssAnon:", "RssFile:", "VmHWM:")}

directory, queries, out = sys.argv[1], np.load(sys.argv[2]), sys.argv[4]
threshold = int(sys.argv[3])
before = status()
index = PdqIndex.load(directory)
loaded = status()
wall, cpu = time.perf_counter(), time.process_time()
m = index.search_batch(queries, threshold)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = status()["VmHWM"]
np.savez(out, queries=m.queries, ids=m.ids, distances=m.distances)
hits = len(m)
del m  # the answers are the caller's memory, not the index's
after = {**status(), "VmHWM": peak}
stats = {"before": before, "loaded": loaded, "after": after, "wall": wall, "cpu": cpu,
         "hits": hits}
if len(sys.argv) > 5:  # the baseline's queries, timed on their own
    base = np.load(sys.argv[5])
    wall, cpu = time.perf_counter(), time.process_time()
    index.search_batch(base, threshold)
    stats["subset_wall"] = time.perf_counter() - wall
    stats["subset_cpu"] = time.process_time() - cpu
print(json.dumps(stats))
"""


def serve_stats(directory: Path, queries: np.ndarray, threshold: int,
                base: np.ndarray | None = None) -> dict:
    """A fresh serving process loads the saved index and answers every query: its memory
    growth (anonymous + touched mapped pages), throughput and result arrays."""
    qfile, out = directory.parent / "queries.npy", directory.parent / "served.npz"
    np.save(qfile, queries)
    args = [sys.executable, "-c", SERVE, str(directory), str(qfile), str(threshold), str(out)]
    if base is not None:
        np.save(directory.parent / "base.npy", base)
        args.append(str(directory.parent / "base.npy"))
    run = subprocess.run(args, capture_output=True, text=True, check=True)
    stats = json.loads(run.stdout)
    with np.load(out) as m:
        stats["matches"] = (m["queries"], m["ids"], m["distances"])
    out.unlink()
    return stats


def run_cvis(data: np.ndarray, queries: np.ndarray, threshold: int, workdir: Path,
             base: np.ndarray | None, in_process: bool = True) -> dict:
    """Build, search in this process (unless not ``in_process``: the 100 M run frees the
    built index instead), save, and serve the saved index from a fresh process."""
    ids = np.arange(data.shape[0], dtype=np.int64)
    build, build_cpu, index = timed_cpu(lambda: PdqIndex.build(ids, data))
    assert isinstance(index, PdqIndex)
    out = {"build_s": build, "build_cpu": build_cpu, "build_peak": peak_bytes(),
           "queries": queries.shape[0], "layout": index.segments[0].layout,
           "bytes": index_bytes(index)}
    if in_process:
        index.search_batch(queries[:200], threshold)  # as a serving process would be: warm
        out["search_s"], out["search_cpu"], matches = timed_cpu(
            partial(index.search_batch, queries, threshold))
        out["results"] = canonical(matches.queries, matches.ids,  # type: ignore
                                   matches.distances, data.shape[0])  # type: ignore
        out["index"] = index
    out["save_s"], _ = timed(partial(index.save, workdir, generation=1))
    out.update(update_latency(index, data, threshold))
    del index
    out.update(served(workdir, queries, threshold, data.shape[0], base))
    if not in_process:
        out["search_s"], out["search_cpu"] = out["serve"]["wall"], out["serve"]["cpu"]
        out["results"] = out["serve_results"]
    return out


def served(workdir: Path, queries: np.ndarray, threshold: int, n: int,
           base: np.ndarray | None) -> dict:
    stats = serve_stats(workdir, queries, threshold, base)
    q, i, d = stats.pop("matches")
    return {"serve": stats, "serve_results": canonical(q, i, d, n),
            "startup_s": startup_seconds(workdir, queries[0]),
            "startup_mapped_s": startup_seconds(workdir, queries[0], verify=False)}


def index_bytes(index: PdqIndex) -> int:
    return sum(s.nbytes + d.nbytes for s, d in zip(index.segments, index.dead, strict=True))


def peak_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def update_latency(index: PdqIndex, data: np.ndarray, threshold: int) -> dict:
    rng = np.random.default_rng(7)
    new = random_hashes(1, rng)
    new_id = data.shape[0] + 1

    def add_and_find() -> bool:
        index.add([new_id], new)
        return any(i == new_id for i, _ in index.search(new, threshold)[0])

    def remove_and_miss() -> bool:
        index.remove([new_id])
        return not any(i == new_id for i, _ in index.search(new, threshold)[0])

    add_s, found = timed(add_and_find)
    remove_s, gone = timed(remove_and_miss)
    assert found and gone
    return {"add_s": add_s, "remove_s": remove_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--threshold", type=int, default=31)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default="cvis,flat,multihash")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--baseline-queries", type=int, default=None,
                        help="run FAISS on only the first N planted and N random queries "
                             "(its throughput is per query; result sets compared on those)")
    parser.add_argument("--stream", type=Path, default=None,
                        help="hashes generated in chunks to DIR/hashes.npy (memory-mapped, "
                             "kept for reruns), index saved to DIR/pdq and searched from a "
                             "fresh process only: for 100 M, where data and index do not "
                             "fit twice in memory")
    args = parser.parse_args()
    engines = args.engines.split(",")

    if args.stream:
        gen_s, data = timed(lambda: stream_dataset(args.stream / "hashes.npy", args.size,
                                                   args.seed))
    else:
        gen_s, data = timed(lambda: make_dataset(args.size, args.seed))
    queries = make_queries(data, args.queries, args.seed)  # type: ignore[arg-type]
    print(f"dataset: {args.size:,} hashes generated in {gen_s:.1f}s; {args.queries:,} queries, "
          f"threshold {args.threshold}; {os.cpu_count()} cores", flush=True)
    base = queries
    if args.baseline_queries:
        half, k = args.queries // 2, args.baseline_queries
        base = np.concatenate([queries[:k], queries[half : half + k]])  # type: ignore[index]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(dir=args.workdir or args.stream) as tmp:
        if "cvis" in engines:
            results["cvis"] = run_cvis(data, queries, args.threshold,  # type: ignore[arg-type]
                                       Path(tmp) / "pdq",
                                       base if args.baseline_queries else None,
                                       in_process=args.stream is None)
            print("cvis done", flush=True)
    for name in ("flat", "multihash"):
        if name in engines:
            results[name] = run_faiss(name, np.asarray(data), base, args.threshold)  # type: ignore
    if args.baseline_queries and "cvis" in results:
        c = results["cvis"]
        c["subset"] = subset(c["results"], args.queries, args.baseline_queries, args.size)
        if "index" in c:
            c["subset_s"], c["subset_cpu"], _ = timed_cpu(
                lambda: c["index"].search_batch(base, args.threshold))
        else:
            c["subset_s"], c["subset_cpu"] = c["serve"]["subset_wall"], c["serve"]["subset_cpu"]
    report(results, args.size)
    print(f"command: python {' '.join(sys.argv)}")


def stream_dataset(path: Path, n: int, seed: int, chunk: int = 1_000_000) -> np.ndarray:
    """``make_dataset``'s mixture, made ``chunk`` hashes at a time straight into a .npy file
    (reused when present), memory-mapped: 100 M hashes never sit in memory twice."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part.npy")
        out = np.lib.format.open_memmap(part, mode="w+", dtype=np.uint8, shape=(n, 32))
        for k, start in enumerate(range(0, n, chunk)):
            stop = min(n, start + chunk)
            out[start:stop] = make_dataset(stop - start, seed * 1_000_003 + k)
        out.flush()
        del out
        part.rename(path)
    data = np.load(path, mmap_mode="r")
    if data.shape != (n, 32):
        raise SystemExit(f"{path} holds {data.shape[0]:,} hashes, not {n:,}")
    return data


def subset(results: tuple[np.ndarray, np.ndarray], nq: int, k: int, n: int) -> tuple:
    """cvis hits of the baseline's queries, renumbered as the baseline numbers them."""
    keys, dist = results
    q, half = keys // n, nq // 2
    pick = (q < k) | ((q >= half) & (q < half + k))
    q2 = np.where(q < k, q, q - half + k)[pick]
    return q2 * n + (keys % n)[pick], dist[pick]


def same(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def report(results: dict[str, dict], n: int) -> None:
    print(f"{'engine':<10} {'queries/s':>10} {'q/CPU-s':>8} {'build s':>8} {'bytes/hash':>10} "
          f"{'hits':>10}")
    for name, r in results.items():
        qps, cps = r["queries"] / r["search_s"], r["queries"] / r["search_cpu"]
        print(f"{name:<10} {qps:>10,.0f} {cps:>8,.0f} {r['build_s']:>8.1f} "
              f"{r['bytes'] / n:>10.1f} {r['results'][0].size:>10,}")
    if "cvis" not in results:
        return
    c = results["cvis"]
    print(f"cvis build CPU {c['build_cpu']:.1f}s (wall {c['build_s']:.1f}s)")
    if "subset_s" in c:
        k = results.get("flat", results.get("multihash", c))["queries"]
        print(f"cvis on the baseline's {k} queries: {k / c['subset_s']:,.0f} q/s, "
              f"{k / c['subset_cpu']:,.0f} q/CPU-s")
    sv = c["serve"]
    grown = sv["after"]["VmRSS"] - sv["before"]["VmRSS"]
    print(f"cvis serving process (load saved index, answer all {c['queries']:,} queries): "
          f"RSS +{grown / 2**20:,.0f} MiB = {grown / n:.1f} bytes/hash (anonymous "
          f"+{(sv['after']['RssAnon'] - sv['before']['RssAnon']) / 2**20:,.0f} MiB, mapped "
          f"files +{(sv['after']['RssFile'] - sv['before']['RssFile']) / 2**20:,.0f} MiB; "
          f"peak {sv['after']['VmHWM'] / 2**20:,.0f} MiB); {c['queries'] / sv['wall']:,.0f} q/s, "
          f"{c['queries'] / sv['cpu']:,.0f} q/CPU-s; identical to in-process results: "
          f"{same(c['serve_results'], c['results'])}")
    print(f"cvis build: peak RSS of this process (data included) "
          f"{c['build_peak'] / 2**30:.1f} GiB; "
          f"index arrays {c['bytes'] / n:.1f} bytes/hash; start-up mapped without checksums "
          f"{c['startup_mapped_s']:.2f}s")
    print(f"cvis layout: {c['layout']}; save {c['save_s']:.1f}s; start-up (new process, "
          f"verified load + 1 query) {c['startup_s']:.2f}s; add matchable in "
          f"{c['add_s'] * 1000:.1f} ms; remove unmatchable in {c['remove_s'] * 1000:.1f} ms")
    for name in ("flat", "multihash"):
        if name in results:
            mine = c.get("subset", c["results"])
            identical = same(mine, results[name]["results"])
            r = results[name]  # compared on the same queries
            mine_s, mine_cpu = c.get("subset_s", c["search_s"]), c.get("subset_cpu",
                                                                       c["search_cpu"])
            wall, cpu = mine_s / r["search_s"], mine_cpu / r["search_cpu"]
            wall, cpu = 1 / wall, 1 / cpu
            print(f"cvis vs {name}: identical result sets: {identical}; speed-up {wall:.1f}x wall, "
                  f"{cpu:.1f}x CPU")


if __name__ == "__main__":
    main()
