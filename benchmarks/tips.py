"""Benchmark tip intake: a fixed rate of tips over HTTP on loopback, every one answered.

Builds a store (SQLite by default, or --database-url) with the office table and one
call-taker token, starts `cvis serve` on 127.0.0.1, and sends ``--rate`` tips a second
for ``--seconds`` seconds (a bounded, open-loop schedule: request i is due at i/rate s;
latency is measured from the moment it was due, so a slow server cannot hide behind a
slow client). Tips are synthetic (Faker people, ZIP codes across the offices); a share
are anonymous (argon2 passphrase hash). Afterwards every tip must be in the store with
a receipt and a lead. Prints p50/p95/p99/max latency, errors and the machine load.

    python benchmarks/tips.py --rate 100 --seconds 60
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from faker import Faker
from sqlalchemy import func, select

from cvis.accounts.service import add_agency, add_user, create_token
from cvis.config import Settings
from cvis.offices.service import import_offices, read_offices
from cvis.store.db import Store
from cvis.tips.models import Lead, Tip

OFFICES = """office_id,name,email,states,counties
HQ,National Desk,desk@example.org,*,
TX,Texas,tx@example.org,TX,
HOU,Houston,hou@example.org,,TX:Harris County
CA,California,ca@example.org,CA,
NY,New York,ny@example.org,NY,
"""
ZIPS = ["77002", "75201", "90012", "94103", "10001", "60601", "33101", "98101"]


def build_store(home: Path, url: str | None) -> tuple[Settings, str]:
    settings = Settings(home, url or f"sqlite:///{home / 'cvis.db'}")
    store = Store(settings)
    (home / "offices.csv").write_text(OFFICES)
    with store.session() as session:
        import_offices(session, read_offices(home / "offices.csv"))
        add_agency(session, "HQ")
        add_user(session, "desk", "HQ", "call-taker", "correct horse battery staple")
        token = create_token(session, "desk", purpose="benchmark")[1]
    store.dispose()
    return settings, token


def payloads(count: int, anonymous_share: float, seed: int = 7) -> list[bytes]:
    fake, rng = Faker("en_US"), random.Random(seed)
    Faker.seed(seed)
    people = [(fake.name(), fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat())
              for _ in range(max(1, count // 3))]  # repeats collapse into leads
    out = []
    for i in range(count):
        name, dob = rng.choice(people)
        tip: dict[str, Any] = {
            "channel": "phone", "narrative": fake.paragraph(nb_sentences=4),
            "anonymous": rng.random() < anonymous_share,
            "location": {"zip": rng.choice(ZIPS)}, "subject": {"name": name, "dob": dob},
            "urls": [f"https://forum.example/t/{rng.randrange(5000)}"],
            "idempotency_key": f"bench-{i}",
        }
        out.append(json.dumps(tip).encode())
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"CVIS_HOME": str(settings.home),
                        "CVIS_DATABASE_URL": settings.database_url}
    server = subprocess.Popen([sys.executable, "-m", "cvis.cli.app", "serve", "--port",
                               str(port), "--workers", str(workers)], env=env)
    for _ in range(1200):  # a busy machine imports slowly
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def drive(port: int, token: str, bodies: list[bytes], rate: float,
          threads: int) -> tuple[list[float], list[str], list[dict[str, Any]]]:
    """Send bodies[i] at start + i/rate; latency from that due time to the answer."""
    latencies: list[float] = []
    errors: list[str] = []
    answers: list[dict[str, Any]] = []
    lock, counter = threading.Lock(), iter(range(len(bodies)))
    start = time.perf_counter() + 0.5
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            try:
                conn.request("POST", "/api/v1/tips", bodies[i], headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    errors.append(type(exc).__name__)
                continue
            elapsed = time.perf_counter() - due
            with lock:
                latencies.append(elapsed)
                if response.status == 201:
                    answers.append(json.loads(data))
                else:
                    errors.append(f"HTTP {response.status}: {data[:200]!r}")
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, errors, answers


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=32, help="client threads")
    parser.add_argument("--anonymous", type=float, default=0.3, help="share of anonymous tips")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        settings, token = build_store(Path(folder), args.database_url)
        bodies = payloads(count, args.anonymous)
        port = free_port()
        server = start_server(settings, port, args.workers)
        load_before = os.getloadavg()
        began = time.perf_counter()
        try:
            latencies, errors, answers = drive(port, token, bodies, args.rate, args.threads)
        finally:
            took = time.perf_counter() - began
            server.terminate()
            server.wait(30)
        store = Store(settings)
        with store.session() as session:
            stored = session.scalar(select(func.count()).select_from(Tip)) or 0
            with_lead = session.scalar(select(func.count()).select_from(Tip).join(
                Lead, Lead.id == Tip.lead_id).where(Tip.receipt != "")) or 0
            leads = session.scalar(select(func.count()).select_from(Lead)) or 0
        store.dispose()
    ok = [a for a in answers if a.get("receipt") and a.get("lead_id")]
    print(f"tips sent {count} in {took:.1f} s ({count / took:.1f}/s offered {args.rate:.0f}/s), "
          f"answered 201 with receipt and lead {len(ok)}, errors {len(errors)}")
    print(f"stored {stored} tips, {with_lead} with a receipt and a lead, in {leads} leads")
    ms = [x * 1000 for x in latencies]
    print(f"latency ms: p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
          f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}")
    print(f"server workers {args.workers}, backend {settings.database_url.split(':')[0]}, "
          f"anonymous share {args.anonymous:.0%}, load average before "
          f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}, cpus {os.cpu_count()}")
    if errors:
        print("first errors:", errors[:5])
    if errors or stored != count or with_lead != count:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
