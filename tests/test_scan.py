"""The scan pipeline: matches stored per item, bad files reported, resumes without duplicates."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from cvis.cases.scanning import run_scan
from cvis.hashing import hash_item
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest, iter_scan_results, summarize_scan
from cvis.media.folders import file_item
from cvis.store.db import Store
from cvis.store.models import Scan, ScanItem


def known_set_csv(pictures: dict[str, Path], path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["media_id", "md5", "pdq", "category", "series", "victim_identified"])
        for i, (name, picture) in enumerate(sorted(pictures.items())):
            record = hash_item(file_item(picture))
            writer.writerow([f"K{i}", record.md5, record.pdq, 1, f"series-{name}", i % 2 == 0])
    return path


def make_evidence(pictures: dict[str, Path], folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(pictures["chelsea"], folder / "exact.png")
    Image.open(pictures["coffee"]).convert("RGB").resize((300, 200)).save(
        folder / "smaller.jpg", quality=80
    )
    Image.new("RGB", (64, 64), (200, 30, 30)).save(folder / "unrelated.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    (folder / "empty.bin").write_bytes(b"")
    (folder / "sub").mkdir()
    (folder / "sub" / "notes.txt").write_text("hello")
    os.symlink(folder, folder / "sub" / "loop")
    return folder


def prepare(store: Store, pictures: dict[str, Path], tmp_path: Path) -> Path:
    with store.session() as session:
        import_file(session, known_set_csv(pictures, tmp_path / "known.csv"), name="known")
    return make_evidence(pictures, tmp_path / "evidence")


def test_scan_finds_copies_and_reports_bad_files(
    store: Store, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    evidence = prepare(store, sample_pictures, tmp_path)
    scan_id = run_scan(store, ScanRequest("CASE-1", [evidence], workers=1))
    with store.session() as session:
        rows = {Path(r["path"]).name: r for r in iter_scan_results(session, scan_id)}
        summary = summarize_scan(session, scan_id)
    assert set(rows) == {"exact.png", "smaller.jpg", "unrelated.png", "broken.jpg",
                         "empty.bin", "notes.txt", "loop"}
    exact = {(m["signal"], m["distance"]) for m in rows["exact.png"]["matches"]}
    assert exact == {("md5", 0), ("pdq", 0)}
    assert [m["signal"] for m in rows["smaller.jpg"]["matches"]] == ["pdq"]
    assert rows["smaller.jpg"]["matches"][0]["series"] == "series-coffee"
    assert rows["unrelated.png"]["matches"] == []
    assert rows["broken.jpg"]["error"].startswith("undecodable image")
    assert rows["broken.jpg"]["md5"] is not None, "crypto hashes survive a bad decode"
    assert rows["empty.bin"]["error"] == "empty file"
    assert rows["loop"]["error"].startswith("symbolic link")
    assert rows["notes.txt"]["error"] is None and rows["notes.txt"]["pdq"] is None
    assert summary.matched_items == 2 and summary.items == 7
    assert summary.errors_by_reason == {"undecodable image": 1, "empty file": 1,
                                        "symbolic link": 1}


def test_parallel_workers_give_the_same_results(
    sqlite_store: Store, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    evidence = prepare(sqlite_store, sample_pictures, tmp_path)
    one = run_scan(sqlite_store, ScanRequest("C", [evidence], workers=1))
    two = run_scan(sqlite_store, ScanRequest("C", [evidence], workers=2, restart=True))
    with sqlite_store.session() as session:
        assert list(iter_scan_results(session, one)) == list(iter_scan_results(session, two))


class Interrupt(Exception):
    pass


def test_unfinished_scan_resumes_without_duplicates(
    sqlite_store: Store, sample_pictures: dict[str, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evidence = prepare(sqlite_store, sample_pictures, tmp_path)
    monkeypatch.setattr("cvis.identify.scan.COMMIT_EVERY", 1)
    seen = []

    def stop_after_three(n: int) -> None:
        seen.append(n)
        if len(seen) == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_scan(sqlite_store, ScanRequest("C", [evidence], workers=1), stop_after_three)
    with sqlite_store.session() as session:
        scan = session.scalars(select(Scan)).one()
        assert scan.status == "running"
        stored = session.scalar(select(func.count()).select_from(ScanItem))
        assert 0 < stored < 7
    again = run_scan(sqlite_store, ScanRequest("C", [evidence], workers=1))
    assert again == scan.id
    with sqlite_store.session() as session:
        paths = list(session.scalars(select(ScanItem.path).where(ScanItem.scan_id == scan.id)))
        assert len(paths) == len(set(paths)) == 7
        assert session.scalar(select(func.count()).select_from(Scan)) == 1


def test_identify_does_not_import_cases() -> None:
    """Identification is a pipeline; the case workflow (`cvis.cases.scanning`) wraps it, never
    the other way round. A fresh interpreter, so modules other tests loaded do not count."""
    import subprocess
    import sys

    code = ("import importlib, pkgutil, sys, cvis.identify\n"
            "for m in pkgutil.iter_modules(cvis.identify.__path__):\n"
            "    importlib.import_module('cvis.identify.' + m.name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('cvis.cases')))")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.strip() == "[]", out
