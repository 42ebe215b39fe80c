"""What a scan is given: a list of paths in a file (or on stdin), and an object-store prefix
read where it lives (a real S3-compatible server on loopback), each giving the results of
the same pictures scanned from a folder; bad entries refused before anything is scanned."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from cvis.cases.scanning import run_scan
from cvis.cli.app import app
from cvis.config import Settings
from cvis.hashing import hash_item
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.media.folders import file_item
from cvis.media.sources import describe_problems, read_list
from cvis.store.db import Store
from cvis.store.models import Case, Scan, ScanItem
from tests.object_store_helpers import ObjectStore


def make_evidence(pictures: dict[str, Path], folder: Path) -> Path:
    """Benign pictures: an exact copy, an altered one, unrelated ones (one named with
    characters a URI would read as syntax), a broken one, a zip holding a copy, and a text
    file, in two folders."""
    (folder / "DCIM").mkdir(parents=True)
    (folder / "DCIM" / "exact.png").write_bytes(pictures["chelsea"].read_bytes())
    Image.open(pictures["coffee"]).convert("RGB").resize((300, 200)).save(
        folder / "DCIM" / "smaller.jpg", quality=80)
    Image.new("RGB", (64, 64), (20, 160, 90)).save(folder / "DCIM" / "unrelated.png")
    Image.new("RGB", (48, 80), (90, 20, 160)).save(folder / "DCIM" / "pool #2?%20.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    with zipfile.ZipFile(folder / "shared.zip", "w") as archive:
        archive.write(pictures["rocket"], "inner/rocket.png")
        archive.writestr("readme.txt", "benign")
    (folder / "notes.txt").write_text("shopping list\n")
    return folder


def known_set(store: Store, pictures: dict[str, Path], path: Path) -> list[str]:
    with path.open("w") as f:
        f.write("media_id,md5,pdq,category,series,victim_identified\n")
        for i, name in enumerate(("chelsea", "coffee", "rocket")):
            record = hash_item(file_item(pictures[name]))
            f.write(f"K{i},{record.md5},{record.pdq},1,series-{name},true\n")
    with store.session() as session:
        import_file(session, path, name="known")
    return ["known"]


def results(store: Store, scan_id: int, root: str) -> dict[str, tuple[Any, ...]]:
    """Each item by its name under the evidence root: digests, PDQ, error, flags, matches."""
    with store.session() as session:
        return {
            row["path"].removeprefix(root): (
                row["size"], row["md5"], row["sha256"], row["pdq"], row["error"],
                tuple(row["flags"]),
                tuple(sorted((m["media_id"], m["signal"], m["distance"]) for m in row["matches"])),
            )
            for row in iter_scan_results(session, scan_id)
        }


@pytest.fixture
def evidence(tmp_path: Path, sample_pictures: dict[str, Path]) -> Path:
    return make_evidence(sample_pictures, tmp_path / "evidence")


def test_read_list_skips_blanks_and_comments_and_keeps_line_numbers() -> None:
    listed = read_list(["# seized 2026-11-30", "", "  /ev/a.jpg  ", "s3://b/p/", "#/ev/x"])
    assert [(s.line, s.text) for s in listed] == [(3, "/ev/a.jpg"), (4, "s3://b/p/")]
    assert [str(s.evidence()) for s in listed] == ["/ev/a.jpg", "s3://b/p/"]
    many = describe_problems([f"line {n}: /gone/{n}: not found" for n in range(1, 26)])
    assert "line 20: /gone/20" in many and "line 21:" not in many and "... and 5 more" in many


def test_a_list_file_and_stdin_scan_what_they_list(
    cli_env: Settings, runner: CliRunner, evidence: Path, tmp_path: Path,
    object_store: ObjectStore,
) -> None:
    bucket = object_store.upload(evidence / "DCIM", "evidence-list", tmp_path.name)
    listing = tmp_path / "paths.txt"
    listing.write_text(f"# the phone\n{bucket}\n\n  {evidence / 'shared.zip'}\n")
    by_file = runner.invoke(app, ["scan", "--case", "L-1", "--from-list", str(listing), "-q"])
    assert by_file.exit_code == 0, by_file.output
    rows = [json.loads(line) for line in by_file.stdout.splitlines()]
    names = sorted(r["path"].removeprefix(str(evidence)).removeprefix(bucket) for r in rows)
    assert names == ["/shared.zip", "/shared.zip!inner/rocket.png", "/shared.zip!readme.txt",
                     "exact.png", "pool #2?%20.png", "smaller.jpg", "unrelated.png"]
    by_stdin = runner.invoke(app, ["scan", "--case", "L-1", "--from-list", "-", "-q"],
                             input=listing.read_text())
    assert by_stdin.exit_code == 0, by_stdin.output
    assert "has already finished; nothing added" in by_stdin.stderr, "the same sources"
    assert by_stdin.stdout == by_file.stdout


def test_bad_lines_are_named_and_nothing_is_scanned(
    cli_env: Settings, runner: CliRunner, evidence: Path, tmp_path: Path,
    object_store: ObjectStore,
) -> None:
    object_store.upload(evidence / "DCIM", "evidence-bad", "here")
    listing = tmp_path / "paths.txt"
    listing.write_text(f"{evidence / 'DCIM'}\n{evidence / 'gone.jpg'}\n# ok\n"
                       "s3://AKIAEXAMPLE:hunter2@bucket/x/\n/nowhere/else\n"
                       "s3://evidence-bad/here/\ns3://evidence-bad/not-here/\n")
    bad = runner.invoke(app, ["scan", "--case", "L-3", "--from-list", str(listing)])
    assert bad.exit_code == 2
    assert f"line 2: {evidence / 'gone.jpg'}: not found" in bad.output
    assert "line 4: s3://bucket/x/: credentials in a URI are refused" in bad.output
    assert "line 5: /nowhere/else: not found" in bad.output
    assert "line 7: s3://evidence-bad/not-here/: no object or prefix there" in bad.output
    assert "line 1:" not in bad.output and "line 6" not in bad.output
    assert "hunter2" not in bad.output
    assert runner.invoke(app, ["scan", "--case", "L-3"]).exit_code == 2, "no evidence at all"
    store = Store(cli_env)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0, "nothing stored"


def test_an_object_store_prefix_gives_the_folder_s_results_and_resumes(
    store: Store, object_store: ObjectStore, evidence: Path, sample_pictures: dict[str, Path],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sets = known_set(store, sample_pictures, tmp_path / "known.csv")
    prefix = object_store.upload(evidence, "evidence-local", "case-7")
    local = run_scan(store, ScanRequest("FOLDER", [evidence], sets, workers=1))
    monkeypatch.setattr("cvis.identify.scan.COMMIT_EVERY", 1)
    seen: list[int] = []

    def crash_after_three(n: int) -> None:
        seen.append(n)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(store, ScanRequest("BUCKET", [prefix], sets, workers=1), crash_after_three)
    with store.session() as session:
        stored = session.scalar(select(func.count()).select_from(ScanItem).join(Scan).join(Case)
                                .where(Case.number == "BUCKET"))
    redone: list[int] = []
    in_store = run_scan(store, ScanRequest("BUCKET", [prefix], sets, workers=1), redone.append)
    expected, got = results(store, local, str(evidence)), results(store, in_store, prefix[:-1])
    assert len(expected) == 9 and sum(bool(v[6]) for v in expected.values()) == 3
    assert got == expected
    assert stored is not None and 0 < stored < 9 and len(redone) == 9 - stored, "none redone"
    with store.session() as session:
        scan = session.get_one(Scan, in_store)
        assert scan.paths == [prefix] and scan.status == "completed"
        names = list(session.scalars(select(ScanItem.path).where(ScanItem.scan_id == in_store)))
    assert all(n.startswith("s3://evidence-local/case-7/") for n in names)
