"""Poster pages served from the portal's cache, measured with wrk on loopback.

Builds a throwaway store with N published posters (drawn faces), starts `cvis public
serve` (uvicorn, one worker unless told) on 127.0.0.1, warms the page cache, then runs
`wrk --latency` over the poster pages (a Lua script rotates the paths). Prints pages/s,
the latency percentiles and the machine's load (`uptime`) before and after.

    python benchmarks/portal.py --posters 20 --seconds 20 --connections 32
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(home: Path, count: int, base: str) -> list[str]:
    from cvis.config import Settings
    from cvis.policy.actors import local_operator
    from cvis.portal import service
    from cvis.portal.demo import demo_poster
    from cvis.portal.settings import PortalSettings
    from cvis.store.db import Store

    store = Store(Settings(home=home, database_url=f"sqlite:///{home / 'cvis.db'}"))
    settings = PortalSettings(store=store.settings, public_url=base)
    ids = []
    for n in range(count):
        folder = home / f"draft-{n}"
        path = demo_poster(folder, title=f"Poster subject {n}")
        ids.append(service.publish(store, settings, local_operator(), path).poster_id)
    store.dispose()
    return ids


def wait_ready(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the portal did not start at {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posters", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--rate-limit", action="store_true",
                        help="keep the default per-address page limit (200/s): wrk is one address")
    args = parser.parse_args()
    if not args.port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ids = build(home, args.posters, base)
        env = {**os.environ, "CVIS_HOME": str(home),
               "CVIS_DATABASE_URL": f"sqlite:///{home / 'cvis.db'}", "CVIS_PUBLIC_URL": base}
        if not args.rate_limit:
            env["CVIS_PUBLIC_PAGE_RATE"] = "0"
        server = subprocess.Popen(
            # as the `cvis` script starts it: under `-m cvis.cli.app` uvicorn's spawned workers
            # re-run the module as __mp_main__ and die
            [sys.executable, "-c", "from cvis.cli.app import main; main()", "public", "serve",
             "--port", str(args.port), "--workers", str(args.workers)], env=env, cwd=ROOT)
        try:
            wait_ready(f"{base}/")
            for poster_id in ids:  # warm the cache
                urllib.request.urlopen(f"{base}/posters/{poster_id}").read()
            script = home / "posters.lua"
            paths = ", ".join(f'"/posters/{p}"' for p in ids)
            script.write_text(f"paths = {{{paths}}}\nn = 0\nrequest = function()\n"
                              "  n = n + 1\n  return wrk.format('GET', paths[n % #paths + 1])\n"
                              "end\n")
            load_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout
            out = subprocess.run(
                ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
                 "--latency", "-s", str(script), base], capture_output=True, text=True,
                check=True).stdout
            load_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(out)
    print(f"load before: {load_before.strip()}")
    print(f"load after:  {load_after.strip()}")
    print(f"poster pages/s: {rate.group(1) if rate else '?'}  p99: {p99.group(1) if p99 else '?'}"
          f"  non-2xx: {non2xx.group(1) if non2xx else 0}  ({args.posters} posters, "
          f"{args.connections} connections, {args.workers} worker(s), {args.seconds} s)")


if __name__ == "__main__":
    main()
