"""Benchmark `cvis serve`: single and batch lookups over HTTP on loopback.

Builds a store with N known md5 hashes (random, benign: no media at all), starts
`cvis serve --workers 2` on 127.0.0.1, and drives it from separate load-generator
processes for a fixed time: single GET lookups (throughput, p50/p99 latency) and
batch POST lookups (hashes/s). Every request is authenticated and audited, as in
production. Prints the figures; errors must be 0.

    python benchmarks/service.py --hashes 1000000 --seconds 60
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from cvis.accounts.service import add_agency, add_user, create_token
from cvis.config import Settings
from cvis.store.db import Store
from cvis.store.models import HashSet, KnownMedia, KnownSignal, SetVersion

CHUNK = 100_000


def build_store(home: Path, count: int) -> tuple[str, list[str]]:
    """A store holding ``count`` random md5s; returns a token and a sample of known values."""
    store = Store(Settings(home, f"sqlite:///{home / 'cvis.db'}"))
    with store.session() as session:
        session.add(HashSet(id=1, name="bench", thresholds={}))
        session.add(SetVersion(set_id=1, number=1, format="csv"))
    sample: list[str] = []
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        values = [secrets.token_hex(16) for _ in range(n)]
        sample.extend(values[:: max(1, n // 500)])
        with store.session() as session:
            session.execute(insert(KnownMedia), [
                {"id": start + i + 1, "set_id": 1, "media_id": f"B-{start + i + 1}",
                 "category": 1, "tags": [], "extra": {}} for i in range(n)])
            session.execute(insert(KnownSignal), [
                {"id": start + i + 1, "media_pk": start + i + 1, "signal_type": "md5",
                 "value": v} for i, v in enumerate(values)])
    with store.session() as session:
        add_agency(session, "Bench Agency")
        add_user(session, "bench", "Bench Agency", "analyst")
        token = create_token(session, "bench", purpose="benchmark")[1]
    store.dispose()
    return token, sample


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, token: str, sample: list[str], timeout: float = 1800) -> None:
    """Until both workers have built their matchers (each answers a lookup)."""
    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline and answered < 20:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", f"/api/v1/lookup?signal=md5&value={sample[0]}",
                          headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            conn.close()
            answered += response.status == 200
        except OSError:
            time.sleep(1)
    if answered < 20:
        raise RuntimeError("server did not become ready")


def _single_worker(port: int, token: str, sample: list[str], seconds: float, threads: int,
                   out: mp.Queue) -> None:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run(seed: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"}
        mine, bad, i = [], 0, seed
        while time.monotonic() < deadline:
            known = i % 2 == 1
            value = sample[i % len(sample)] if known else secrets.token_hex(16)
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", f"/api/v1/lookup?signal=md5&value={value}", headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and known != (b'"matches": []' in body)
            except OSError:
                ok = False
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - t0)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    pool = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((latencies, errors[0]))


def _batch_worker(port: int, token: str, sample: list[str], seconds: float, batch: int,
                  out: mp.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    hashes = [
        {"signal": "md5", "value": sample[i % len(sample)] if i % 2 else secrets.token_hex(16)}
        for i in range(batch)
    ]
    body = json.dumps({"hashes": hashes})
    done, errors, calls = 0, 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.request("POST", "/api/v1/lookup", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        calls += 1
        if response.status == 200 and len(json.loads(payload)["results"]) == batch:
            done += batch
        else:
            errors += 1
    out.put((done, errors, calls))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _load(target: Any, args: tuple[Any, ...], procs: int) -> list[Any]:
    """Run ``procs`` load-generator processes; each puts one result on the queue."""
    out: mp.Queue = mp.Queue()
    workers = [mp.Process(target=target, args=(*args, out)) for _ in range(procs)]
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    return results


def run_single(port: int, token: str, sample: list[str], seconds: float, procs: int,
               threads: int) -> None:
    results = _load(_single_worker, (port, token, sample, seconds, threads), procs)
    latencies = [x for lat, _ in results for x in lat]
    errors = sum(e for _, e in results)
    print(f"single lookups: {len(latencies) / seconds:,.0f}/s over {seconds:.0f} s "
          f"({procs}x{threads} connections), p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, errors {errors}", flush=True)


def run_batch(port: int, token: str, sample: list[str], seconds: float, batch: int,
              procs: int) -> None:
    results = _load(_batch_worker, (port, token, sample, seconds, batch), procs)
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    calls = sum(r[2] for r in results)
    print(f"batch lookups of {batch:,}: {done / seconds:,.0f} hashes/s over {seconds:.0f} s "
          f"({calls} calls, {procs} clients), errors {errors}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--threads", type=int, default=8, help="connections per process")
    parser.add_argument("--batches", default="1000,10000,100000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cvis-bench-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        token, sample = build_store(home, args.hashes)
        print(f"store with {args.hashes:,} md5s built in {time.perf_counter() - t0:.0f} s",
              flush=True)
        port = free_port()
        env = os.environ | {"CVIS_HOME": str(home),
                            "CVIS_DATABASE_URL": f"sqlite:///{home / 'cvis.db'}"}
        server = subprocess.Popen(
            [sys.executable, "-m", "cvis.cli.app", "serve", "--port", str(port), "--workers",
             str(args.workers)], env=env)
        try:
            t0 = time.perf_counter()
            wait_ready(port, token, sample)
            print(f"server ready (matchers built) in {time.perf_counter() - t0:.0f} s", flush=True)
            run_single(port, token, sample, args.seconds, args.clients, args.threads)
            for batch in (int(b) for b in args.batches.split(",")):
                run_batch(port, token, sample, args.seconds, batch, args.clients)
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
