"""Benchmark: `cvis --help` and `cvis hash` of one small picture, whole process, against
`python -c pass` with the same interpreter (median of N runs each, interleaved).

    python benchmarks/startup.py --runs 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tiny_png(folder: Path) -> Path:
    from PIL import Image

    path = folder / "tiny.png"
    Image.new("RGB", (32, 32), (200, 40, 90)).save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cvis-startup-"))
    # Installed packages carry compiled bytecode (pip compiles at install); a shell that sets
    # PYTHONDONTWRITEBYTECODE would have every timed run compile the sources again.
    env = {**os.environ, "CVIS_HOME": str(work)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    picture = tiny_png(work)
    cvis = [sys.executable, "-m", "cvis.cli.app"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cvis --help": [*cvis, "--help"],
        "cvis hash tiny.png": [*cvis, "hash", str(picture), "--workers", "1"],
    }
    subprocess.run(commands["cvis hash tiny.png"], env=env, check=True,  # creates the store
                   stdout=subprocess.DEVNULL)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["python -c pass"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name}: median {median:.3f} s of {args.runs} ({median / base:.1f}x python -c pass)")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
