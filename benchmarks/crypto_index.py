"""Benchmark: CryptoIndex memory, build and lookup rate for random sha1 digests.

    python benchmarks/crypto_index.py --size 10000000
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from cvis.index import CryptoIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    digests = rng.integers(0, 256, (args.size, 20), dtype=np.uint8)
    index = CryptoIndex()
    start = time.perf_counter()
    index.add(np.arange(args.size), digests)
    index.compact()
    build = time.perf_counter() - start
    table = index.tables[20]
    nbytes = table.words.nbytes + table.ids.nbytes + table.dead.nbytes
    present = digests[rng.integers(0, args.size, args.queries // 2)]
    absent = rng.integers(0, 256, (args.queries - present.shape[0], 20), dtype=np.uint8)
    queries = [bytes(r) for r in np.concatenate([present, absent])]
    start = time.perf_counter()
    q, _ = index.lookup_batch(queries)
    secs = time.perf_counter() - start
    assert np.unique(q).size == present.shape[0]
    print(f"sha1 x {args.size:,}: build {build:.1f}s, {nbytes / args.size:.1f} bytes/digest, "
          f"{args.queries / secs:,.0f} lookups/s (half present)")
    print(f"command: python {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()
