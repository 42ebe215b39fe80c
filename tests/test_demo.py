"""`cvis demo` runs the whole job on benign pictures and finds the known ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cvis.cli.app import app


def test_demo_finds_known_pictures(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the embedded default: CVIS_HOME set, no database URL."""
    monkeypatch.setenv("CVIS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CVIS_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["demo", "--workdir", str(tmp_path / "demo"), "--quiet"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "demo" / "results.jsonl").open()]
    matched = {Path(r["path"]).name for r in rows if r["matches"]}
    assert {"IMG_0001.png", "launch.png"} <= matched, "exact copies are found"
    assert {f"recompressed_{i}.jpg" for i in range(5)} <= matched, "re-encoded copies are found"
    assert {f"mirrored_{i}.jpg" for i in range(5)} <= matched, "mirrored copies are found"
    assert {f"letterboxed_{i}.jpg" for i in range(5)} <= matched, "letterboxed copies are found"
    assert not any(r["matches"] for r in rows if "other_" in r["path"]), "no false matches"
    assert "showing identified victims" in result.output
    assert (tmp_path / "home" / "cvis.db").exists(), "the embedded SQLite store was used"
