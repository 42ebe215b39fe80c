"""Benchmark `cvis serve` with wrk: single GET lookups and compact batch POSTs on loopback.

    python benchmarks/service_wrk.py --md5 1000000 --pdq 1000000 --seconds 30 \
        --batch 1000,100000 --batch-connections 2,4 --baseline-src ../main/src

Builds a store with N random md5s and N random PDQ hashes (benign: no media), starts
`cvis serve --workers 2` (uvicorn, uvloop, httptools), then drives it with Debian's wrk
(16 connections): GET /api/v1/lookup?signal=..&value=.. cycling through known and
unknown values of both types, and POST /api/v1/lookup with the compact body
{"signal": "md5", "values": [...]} of each --batch size. Every request is authenticated
and audited, as in production. wrk's own latency percentiles are printed as they come.
The server runs this checkout's src (PYTHONPATH set to it); with --baseline-src, the same
phases run first against a server of that source tree (main's, say), in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service import build_store, free_port, wait_ready  # noqa: E402

from cvis.config import Settings  # noqa: E402
from cvis.store.db import Store  # noqa: E402
from cvis.store.models import KnownMedia, KnownSignal  # noqa: E402

CHUNK = 100_000

SINGLE = """
local paths = {}
local n = 0
for line in io.lines("%(values)s") do
  n = n + 1
  paths[n] = line
end
local i = 0
request = function()
  i = i %% n + 1
  return wrk.format("GET", paths[i], {["Authorization"] = "Bearer %(token)s"})
end
"""

BATCH = """
local f = io.open("%(body)s", "rb")
local body = f:read("*all")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
"""


def add_pdq(home: Path, count: int, first_id: int) -> list[str]:
    """``count`` random PDQ hashes as known media of set 1; returns a sample."""
    store = Store(Settings(home, f"sqlite:///{home / 'cvis.db'}"))
    sample: list[str] = []
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        values = [secrets.token_hex(32) for _ in range(n)]
        sample.extend(values[:: max(1, n // 500)])
        ids = range(first_id + start, first_id + start + n)
        with store.session() as session:
            session.execute(insert(KnownMedia), [
                {"id": i, "set_id": 1, "media_id": f"P-{i}", "category": 1, "tags": [],
                 "extra": {}} for i in ids])
            session.execute(insert(KnownSignal), [
                {"id": i, "media_pk": i, "signal_type": "pdq", "value": v}
                for i, v in zip(ids, values, strict=True)])
    store.dispose()
    return sample


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants, from /proc."""
    total, pending = 0.0, [pid]
    while pending:
        p = pending.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def audit_count(home: Path) -> int:
    with sqlite3.connect(home / "cvis.db") as db:
        return int(db.execute("SELECT count(*) FROM audit_records").fetchone()[0])


def wrk(url: str, script: Path, seconds: float, connections: int, server: int,
        home: Path) -> str:
    """wrk's report, the server's CPU time per request (load on the machine from others
    slows the requests down, not this figure), and the audit records the run added: one
    per request wrk counted, plus those still in flight when it stopped (at most one per
    connection)."""
    before, records = tree_cpu(server), audit_count(home)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "60s",
         "--latency", "-s", str(script), url],  # wrk's 2 s timeout dropped slow batches
        capture_output=True, text=True, check=True)
    used = tree_cpu(server) - before
    time.sleep(1)  # the last answers' records
    added = audit_count(home) - records
    count = re.search(r"(\d+) requests in", done.stdout)
    n = int(count.group(1)) if count else 0
    per = f"{used / n * 1000:.2f} ms" if n else "-"
    return (done.stdout + f"server CPU: {used:.1f} s, {per} per request\n"
            f"audit records added: {added:,} for {n:,} requests counted by wrk "
            f"({'complete' if n <= added <= n + connections else 'MISMATCH'})\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--md5", type=int, default=1_000_000)
    parser.add_argument("--pdq", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", default="16", help="comma-separated, one run each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", default="1000,100000", help="comma-separated sizes")
    parser.add_argument("--batch-connections", default="2",
                        help="comma-separated connection counts for each batch size")
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="also serve this source tree (e.g. main's src) first, same phases")
    parser.add_argument("--baseline-last", action="store_true",
                        help="serve the baseline after this checkout (others' load drifts)")
    parser.add_argument("--dir", type=Path, default=None, help="keep the store here (reused)")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn",
                        help="uvicorn: `cvis serve`; granian: the same app under granian "
                             "(installed separately: it is not a cvis dependency)")
    args = parser.parse_args()
    home = Path(args.dir or tempfile.mkdtemp(prefix="cvis-wrk-"))
    home.mkdir(parents=True, exist_ok=True)
    ready = home / "ready.json"
    if not ready.exists():
        t0 = time.perf_counter()
        token, md5s = build_store(home, args.md5)
        pdqs = add_pdq(home, args.pdq, args.md5 + 1)
        ready.write_text(json.dumps({"token": token, "md5": md5s, "pdq": pdqs}))
        print(f"store: {args.md5:,} md5 + {args.pdq:,} PDQ in {time.perf_counter() - t0:.0f} s")
    state = json.loads(ready.read_text())
    token, md5s, pdqs = state["token"], state["md5"], state["pdq"]
    paths = []
    for k in range(1000):  # known and unknown values of both types
        md5 = md5s[k % len(md5s)] if k % 2 else secrets.token_hex(16)
        pdq = pdqs[k % len(pdqs)] if k % 2 else secrets.token_hex(32)
        paths += [f"/api/v1/lookup?signal=md5&value={md5}",
                  f"/api/v1/lookup?signal=pdq&value={pdq}"]
    (home / "paths.txt").write_text("\n".join(paths) + "\n")
    (home / "single.lua").write_text(SINGLE % {"values": home / "paths.txt", "token": token})
    sizes = [int(b) for b in args.batch.split(",") if b]
    for size in sizes:
        values = [md5s[k % len(md5s)] if k % 10 == 0 else secrets.token_hex(16)
                  for k in range(size)]
        body = home / f"body-{size}.json"
        body.write_text(json.dumps({"signal": "md5", "values": values}))
        (home / f"batch-{size}.lua").write_text(BATCH % {"body": body, "token": token})
    ours = Path(__file__).resolve().parent.parent / "src"
    runs = [("baseline", args.baseline_src.resolve())] if args.baseline_src else []
    runs = runs + [("this checkout", ours)] if not args.baseline_last else \
        [("this checkout", ours)] + runs
    for label, src in runs:
        print(f"=== {label}: {src}")
        serve(args, home, token, md5s, pdqs, src, sizes)


def warm(port: int, token: str, pdqs: list[str], count: int = 40) -> None:
    """PDQ lookups on fresh connections until each worker has answered some: its first
    compiles the index kernel (numba, seconds, unless cached), which is start-up, not
    serving."""
    for value in pdqs[:count]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", f"/api/v1/lookup?signal=pdq&value={value}",
                     headers={"Authorization": f"Bearer {token}"})
        if conn.getresponse().status != 200:
            raise RuntimeError("warm-up lookup failed")
        conn.close()


def serve(args: argparse.Namespace, home: Path, token: str, md5s: list[str], pdqs: list[str],
          src: Path, sizes: list[int]) -> None:
    """Start a server of the code in ``src`` and run every phase against it."""
    port = free_port()
    env = os.environ | {"CVIS_HOME": str(home), "PYTHONPATH": str(src),
                        "CVIS_DATABASE_URL": f"sqlite:///{home / 'cvis.db'}"}
    command = [sys.executable, "-m", "cvis.cli.app", "serve", "--port", str(port),
               "--workers", str(args.workers)]
    if args.server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop",
                   "--http", "1", "--runtime-mode", "st", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(args.workers),
                   "--log-level", "warning", "cvis.api.asgi:app"]
        env["CVIS_TIP_SCHEDULER"] = "0"
    served = subprocess.run([sys.executable, "-c", "import cvis; print(cvis.__file__)"],
                            env=env, capture_output=True, text=True, check=True).stdout.strip()
    print(f"serving {served}")
    server = subprocess.Popen(command, env=env)
    try:
        t0 = time.perf_counter()
        wait_ready(port, token, md5s)
        warm(port, token, pdqs)
        print(f"{args.server} ready in {time.perf_counter() - t0:.0f} s; load {os.getloadavg()}")
        url = f"http://127.0.0.1:{port}"
        for connections in (int(c) for c in args.connections.split(",")):
            print(f"single GET lookups (md5 and PDQ, half known), {connections} connections:")
            print(wrk(url, home / "single.lua", args.seconds, connections, server.pid, home))
            print(f"load {os.getloadavg()}")
        for size in sizes:
            for connections in (int(c) for c in args.batch_connections.split(",")):
                print(f"batch POST, compact body of {size:,} md5 (10% known), {connections} "
                      f"connections (multiply requests/s by {size:,}):")
                print(wrk(url + "/api/v1/lookup", home / f"batch-{size}.lua", args.seconds,
                          connections, server.pid, home))
                print(f"load {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
