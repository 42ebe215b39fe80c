"""Scans at forensic quality: killed and resumed, custody recorded, completed scans immutable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from cvis.cases.models import EvidenceManifest
from cvis.cases.scanning import run_scan
from cvis.cli.app import app
from cvis.config import Settings
from cvis.evidence.custody import folder_manifest
from cvis.identify.scan import ScanRequest
from cvis.store.db import Store
from cvis.store.models import CompletedScanError, Evidence, Scan, ScanItem


def many_pictures(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        Image.new("RGB", (24, 24), (i % 256, (i * 7) % 256, (i * 13) % 256)).save(
            folder / f"p{i:04d}.png")
    return folder


def _stored(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM scan_items")).scalar() or 0
    except Exception:  # the table may not exist yet
        return 0
    finally:
        engine.dispose()


def test_scan_killed_with_sigkill_resumes_with_every_item_exactly_once(
    tmp_path: Path, sqlite_store: Store
) -> None:
    evidence = many_pictures(tmp_path / "ev", 1000)
    settings = sqlite_store.settings
    env = {**os.environ, "CVIS_HOME": str(settings.home),
           "CVIS_DATABASE_URL": settings.database_url}
    command = [sys.executable, "-c", "from cvis.cli.app import main; main()",
               "scan", str(evidence), "--case", "KILL", "--workers", "2", "--quiet"]
    victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _stored(settings.database_url) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    before = _stored(settings.database_url)
    assert 0 < before < 1000, "killed part-way through"
    out = tmp_path / "results.jsonl"
    finished = subprocess.run(command + ["--jsonl", str(out)], env=env, capture_output=True,
                              text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    paths = [json.loads(line)["path"] for line in out.read_text().splitlines()]
    assert len(paths) == len(set(paths)) == 1000
    assert set(paths) == {str(p) for p in evidence.iterdir()}
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 1, "resumed, not new"
        recorded = session.get_one(EvidenceManifest, session.scalars(select(Evidence.id)).one())
        assert [tuple(e) for e in recorded.files] == folder_manifest(evidence), "once, whole"


def test_scan_records_custody_and_completed_scans_cannot_change(
    store: Store, tmp_path: Path
) -> None:
    archive = tmp_path / "phone.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "benign")
    scan_id = run_scan(store, ScanRequest("CUSTODY", [archive], workers=1,
                                          acquired_by="Examiner A"))
    with store.session() as session:
        scan = session.get_one(Scan, scan_id)
        assert scan.cvis_version and scan.host and scan.settings["intake"]["max_depth"] == 8
        evidence = session.scalars(select(Evidence)).one()
        assert (evidence.kind, evidence.size, evidence.acquired_by) == (
            "zip", archive.stat().st_size, "Examiner A")
        assert evidence.sha256 and len(evidence.sha256) == 64
    with pytest.raises(CompletedScanError), store.session() as session:
        session.add(ScanItem(scan_id=scan_id, path="forged", flags=[]))
    with pytest.raises(CompletedScanError), store.session() as session:
        session.get_one(Scan, scan_id).status = "running"
    with pytest.raises(LookupError, match="completed"):
        run_scan(store, ScanRequest("CUSTODY", [archive], resume_scan_id=scan_id))


def test_evidence_verify_says_when_the_source_changed(
    cli_env: Settings, runner: CliRunner, tmp_path: Path
) -> None:
    archive = tmp_path / "card.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "benign")
    result = runner.invoke(app, ["scan", str(archive), "--case", "V", "--workers", "1",
                                 "--jsonl", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 0, result.output
    ok = runner.invoke(app, ["evidence", "verify", "--case", "V"])
    assert ok.exit_code == 0 and "unchanged" in ok.output
    with archive.open("ab") as f:
        f.write(b"tampered")
    changed = runner.invoke(app, ["evidence", "verify", "1"])
    assert changed.exit_code == 1 and "CHANGED" in changed.output
    listing = runner.invoke(app, ["evidence", "list", "--case", "V"])
    assert listing.exit_code == 0 and "zip" in listing.output
    assert runner.invoke(app, ["evidence", "verify"]).exit_code == 2


def test_scan_limits_come_from_the_command_line(
    sqlite_store: Store, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CVIS_HOME", str(sqlite_store.settings.home))
    monkeypatch.setenv("CVIS_DATABASE_URL", sqlite_store.settings.database_url)
    folder = many_pictures(tmp_path / "ev", 1)
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.write(folder / "p0000.png", "p.png")
    with zipfile.ZipFile(folder / "outer.zip", "w") as z:
        z.write(inner, "inner.zip")
    out = tmp_path / "r.jsonl"
    result = runner.invoke(app, ["scan", str(folder), "--case", "L", "--workers", "1",
                                 "--max-pixels", "100", "--max-depth", "1", "--jsonl", str(out)])
    assert result.exit_code == 0, result.output
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["p0000.png"]["error"].startswith("decompression bomb")
    assert any("nesting depth limit (1)" in f for f in rows["outer.zip!inner.zip"]["flags"])
    with sqlite_store.session() as session:
        settings = session.scalars(select(Scan)).one().settings
    assert settings["hashing"]["max_pixels"] == 100 and settings["intake"]["max_depth"] == 1


def _custody_folder(root: Path) -> Path:
    """Nested folders, a zip (its member an item, the zip a file), a non-media file, links."""
    folder = many_pictures(root / "ev", 4)
    (folder / "sub" / "deeper").mkdir(parents=True)
    Image.new("RGB", (30, 20), (9, 99, 199)).save(folder / "sub" / "deeper" / "x.png")
    (folder / "sub" / "notes.txt").write_text("benign notes")
    with zipfile.ZipFile(folder / "sub" / "photos.zip", "w") as z:
        z.write(folder / "p0001.png", "inside.png")
    (folder / "link.txt").symlink_to("sub/notes.txt")
    (folder / "linkdir").symlink_to("sub")
    return folder


def test_folder_manifest_comes_from_the_scan_s_digests_even_when_resumed(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cvis.evidence import custody
    from cvis.identify import scan as scan_module

    folder = _custody_folder(tmp_path)
    expected = custody.folder_manifest(folder)
    reads: list[Path] = []
    monkeypatch.setattr(custody, "file_sha256", lambda p, *a: reads.append(p) or "read")
    monkeypatch.setattr(scan_module, "COMMIT_EVERY", 1)
    stored: list[int] = []

    def stop_after_three(items: int) -> None:
        stored.append(items)
        if len(stored) == 4:
            raise KeyboardInterrupt  # the scan stops with three items stored
    request = ScanRequest("MANIFEST", [folder], workers=1)
    with pytest.raises(KeyboardInterrupt):
        run_scan(store, request, stop_after_three)
    with store.session() as session:
        evidence = session.scalars(select(Evidence)).one()
        assert session.get(EvidenceManifest, evidence.id) is None, "recorded once, complete"
        assert session.scalar(select(func.count()).select_from(ScanItem)) == 3
    scan_id = run_scan(store, request)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 1, "resumed"
        manifest = session.get_one(EvidenceManifest, evidence.id)
        assert [tuple(e) for e in manifest.files] == expected
        assert manifest.sha256 == custody.manifest_sha256(expected)
        assert (manifest.file_count, manifest.total_size) == (
            len(expected), sum(size for _, size, _ in expected))
        assert session.get_one(Scan, scan_id).status == "completed"
    assert reads == [], "every file's digest came from the scan"
    monkeypatch.undo()
    with store.session() as session:
        verified = custody.verify_evidence(session, evidence.id)
    assert verified.unchanged and verified.reason == "unchanged"


def test_a_manifest_recorded_beside_the_scan_does_not_fail_its_end(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scans of one folder (--restart beside a running one) may both find no manifest
    and both insert one: the later insert fails as the database refuses the duplicate. The
    scan's completion is then tried again, sees the manifest standing, and completes."""
    from sqlalchemy.exc import IntegrityError

    from cvis.cases import scanning

    folder = many_pictures(tmp_path / "ev", 3)
    original = scanning.record_folder_manifest
    calls: list[Path] = []

    def racing(session, case_id, path, known):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 1:  # as the database answers the second insert of one manifest
            raise IntegrityError("INSERT INTO evidence_manifests", {}, Exception("duplicate"))
        return original(session, case_id, path, known)

    monkeypatch.setattr(scanning, "record_folder_manifest", racing)
    scan_id = run_scan(store, ScanRequest("RACE", [folder], workers=1))
    with store.session() as session:
        assert session.get_one(Scan, scan_id).status == "completed"
        evidence = session.scalars(select(Evidence)).one()
        manifest = session.get_one(EvidenceManifest, evidence.id)
        assert [tuple(e) for e in manifest.files] == folder_manifest(folder)
    assert len(calls) == 2

    def refused(*args: object) -> None:
        raise IntegrityError("INSERT INTO evidence_manifests", {}, Exception("again"))

    monkeypatch.setattr(scanning, "record_folder_manifest", refused)
    with pytest.raises(IntegrityError):  # a refusal that does not go away is not hidden
        run_scan(store, ScanRequest("RACE-2", [folder], workers=1))
    with store.session() as session:
        assert session.scalar(select(Scan.status).where(Scan.id != scan_id)) != "completed"
