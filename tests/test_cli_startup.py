"""Light commands stay light: `cvis --help` and `cvis hash` of one small picture import none
of the heavy libraries (read from ``python -X importtime``), and the lazily imported
command groups are listed with their own help."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import cvis
from cvis.cli import app as cli_app
from cvis.cli import lazy

HEAVY = {"sqlalchemy", "alembic", "splink", "pandas", "pyspark", "duckdb", "fastapi"}
# `cvis hash` writes its audit records to the current SQLite store through sqlite3 (every
# command is audited), and hashes pictures without OpenCV (no ORB asked), PyAV (no video) or
# numba (the compiled index search: nothing is searched).
HEAVY_FOR_HASH = HEAVY | {"cv2", "av", "numba"}


def imported(args: list[str], home: Path) -> set[str]:
    """Top-level packages the command imported (its worker processes included)."""
    env = {**os.environ, "CVIS_HOME": str(home), "PYTHONPATH": str(Path(cvis.__file__).parents[1])}
    env.pop("CVIS_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cvis.cli.app", *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert "cvis.cli.app" in names or "typer" in names  # the report was read
    return {name.split(".")[0] for name in names}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("startup")


def test_help_imports_no_heavy_library(home: Path) -> None:
    assert not imported(["--help"], home) & HEAVY


def test_hash_of_one_picture_imports_no_heavy_library(home: Path) -> None:
    picture = home / "tiny.png"
    Image.new("RGB", (16, 16), (10, 200, 30)).save(picture)
    imported(["hash", str(picture), "--workers", "1"], home)  # the first run creates the store
    found = imported(["hash", str(picture), "--workers", "1"], home)
    assert "PIL" in found and not found & HEAVY_FOR_HASH


def _first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


def test_lazy_groups_are_listed_with_their_own_help() -> None:
    for name, entry in lazy.LAZY.items():
        assert _first_paragraph(lazy.load(name).help) == entry.help, name
    assert set(lazy.LAZY) <= set(lazy.ORDER)


def test_scan_defaults_are_the_hashing_ones() -> None:
    from cvis.hashing import DEFAULT_MAX_PIXELS
    from cvis.identify.hashpool import DEFAULT_TIME_LIMIT

    assert (cli_app.DEFAULT_MAX_PIXELS, cli_app.DEFAULT_TIME_LIMIT) == (DEFAULT_MAX_PIXELS,
                                                                         DEFAULT_TIME_LIMIT)


def test_hash_of_one_small_file_starts_no_worker_process(home: Path) -> None:
    """One small picture is hashed in the command's own process, whatever the cores: a
    worker would import everything again. Each process reports its own imports, so a
    worker shows as a second report of PIL (asked for with --workers 2: the control)."""
    picture = home / "one.png"
    Image.new("RGB", (16, 16), (200, 20, 30)).save(picture)

    def pil_imports(*options: str) -> int:
        env = {**os.environ, "CVIS_HOME": str(home),
               "PYTHONPATH": str(Path(cvis.__file__).parents[1])}
        env.pop("CVIS_DATABASE_URL", None)
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cvis.cli.app",
                               "hash", str(picture), *options], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return sum(line.startswith("import time:") and line.rsplit("|", 1)[-1].strip() == "PIL"
                   for line in done.stderr.splitlines())

    assert pil_imports("--workers", "2") == 2  # a worker process: seen
    assert pil_imports() == 1
