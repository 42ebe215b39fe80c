"""The suite hides nothing: a skip that is not on the allow-list fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).parent / "skip_probe.py"


def run_probe(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "CVIS_ALLOW_SKIPS"} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PROBE)],
        capture_output=True, text=True, env=environment, cwd=PROBE.parent.parent, timeout=120,
    )


def test_an_unlisted_skip_fails_the_run() -> None:
    result = run_probe()
    assert result.returncode == 1, result.stdout
    assert "1 skipped test(s) not on the allow-list" in result.stdout
    assert "skip_probe.py::test_probe_skips: a probe that never runs" in result.stdout


def test_a_developer_may_allow_skips_locally() -> None:
    assert run_probe(CVIS_ALLOW_SKIPS="1").returncode == 0
