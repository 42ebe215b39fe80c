"""`cvis sets import-media`: sets built from pictures and videos; hashes kept, media not."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cvis.cases.scanning import run_scan
from cvis.cli.app import app
from cvis.config import Settings
from cvis.hashing import hash_item
from cvis.hashsets.media_import import ManifestError, import_media
from cvis.hashsets.service import ImportRejected, export_set
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.media.folders import file_item
from cvis.store.db import Store
from cvis.store.models import KnownMedia, KnownSignal, SetVersion
from tests.hashing_samples import encode, make_video, photo


def manifest(folder: Path, rows: list[list[str]],
             header: str = "media_id,file,category,series,victim_identified") -> Path:
    path = folder / "manifest.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def signals_of(store: Store, media_id: str) -> list[tuple[str, str]]:
    with store.session() as session:
        return [tuple(r) for r in session.execute(
            select(KnownSignal.signal_type, KnownSignal.value)
            .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
            .where(KnownMedia.media_id == media_id).order_by(KnownSignal.id))]


def test_pictures_get_every_signal_and_nothing_of_the_media(store: Store, tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(encode(photo("chelsea.png")))
    path = manifest(tmp_path, [["A", "pics/a.png", "1", "S-1", "true"]])
    with store.session() as session:
        report = import_media(session, path, name="built")
    assert (report.added, report.pictures, report.videos) == (1, 1, 0)
    record = hash_item(file_item(tmp_path / "pics" / "a.png"))
    found = signals_of(store, "A")
    assert found[:4] == [("md5", record.md5), ("sha1", record.sha1),
                         ("sha256", record.sha256), ("pdq", record.pdq)]
    with store.session() as session:
        media = session.scalar(select(KnownMedia))
        assert media is not None
        assert (media.category, media.series, media.victim_identified) == (1, "S-1", True)
        version = session.scalar(select(SetVersion))
        assert version is not None and version.format == "media"
        out = io.StringIO()
        export_set(session, "built", "csv", out)
        exported = out.getvalue()
    assert record.pdq in exported and "chelsea" not in exported


def test_viewer_pdq_is_stored_beside_the_reference(store: Store, tmp_path: Path) -> None:
    """A palette PNG: the reference hashes indices; the viewer's colours are kept as well."""
    (tmp_path / "p.png").write_bytes(encode(photo("chelsea.png").quantize(256)))
    path = manifest(tmp_path, [["P", "p.png", "", "", ""]])
    with store.session() as session:
        import_media(session, path, name="built")
    record = hash_item(file_item(tmp_path / "p.png"))
    viewer = [v.hash for v in record.pdq_variants if v.kind == "viewer"]
    pdqs = [v for s, v in signals_of(store, "P") if s == "pdq"]
    assert viewer and pdqs == [record.pdq, viewer[0]]


def test_a_video_is_one_media_item_with_its_frame_hashes(
    store: Store, tmp_path: Path, sample_pictures: dict[str, Path]
) -> None:
    scenes = [photo("chelsea.png"), photo("rocket.jpg")]
    make_video(tmp_path / "clip.mp4", scenes)
    path = manifest(tmp_path, [["V", "clip.mp4", "2", "", ""]])
    with store.session() as session:
        report = import_media(session, path, name="videos")
        assert session.scalar(select(func.count(KnownMedia.id))) == 1
    assert (report.pictures, report.videos) == (0, 1)
    frames = [v for s, v in signals_of(store, "V") if s == "vpdq"]  # a row per frame
    assert len(frames) >= 2  # one per scene at least
    assert all(len(f.split(",")) == 4 for f in frames)  # pdq,quality,timestamp,frame number
    # a picture of one scene is found in the known video
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    scenes[1].resize((320, 240)).save(evidence / "still.jpg", quality=90)
    scan_id = run_scan(store, ScanRequest("VID-1", [evidence], workers=1))
    with store.session() as session:
        row = next(iter_scan_results(session, scan_id))
    assert [(m["media_id"], m["signal"]) for m in row["matches"]] == [("V", "pdq")]


def test_reimport_replaces_further_values(store: Store, tmp_path: Path) -> None:
    (tmp_path / "p.png").write_bytes(encode(photo("chelsea.png").quantize(256)))
    path = manifest(tmp_path, [["P", "p.png", "", "", ""]])
    for _ in range(2):
        with store.session() as session:
            import_media(session, path, name="built")
    found = [pair for pair in signals_of(store, "P") if pair[0] != "orb"]
    assert len(found) == len(set(found)) == 5  # 3 digests, reference and viewer PDQ
    keypoints = [pair for pair in signals_of(store, "P") if pair[0] == "orb"]
    assert len(keypoints) == len(set(keypoints)) > 50


def test_bad_rows_reject_the_whole_manifest(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(encode(photo("coffee.png")))
    (tmp_path / "text.jpg").write_text("not a picture")
    path = manifest(tmp_path, [["A", "a.png", "1", "", ""], ["B", "missing.png", "", "", ""],
                               ["C", "text.jpg", "", "", ""], ["D", "a.png", "x", "", ""]])
    with store.session() as session, pytest.raises(ImportRejected) as caught:
        import_media(session, path, name="built")
    text = str(caught.value)
    assert "no such file: missing.png" in text and "line 3" in text
    assert "text.jpg: not a picture or video (content is text)" in text and "line 5" in text
    with store.session() as session:
        assert session.scalar(select(func.count(KnownMedia.id))) == 0
        report = import_media(session, path, name="built", skip_bad=True)
    assert (report.added, report.error_count) == (1, 3)


def test_manifest_without_required_columns(store: Store, tmp_path: Path) -> None:
    path = manifest(tmp_path, [["A", "a.png"]], header="id,path")
    with store.session() as session, pytest.raises(ManifestError, match="media_id, file"):
        import_media(session, path, name="built")


def test_cli_import_media(cli_env: Settings, runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(encode(photo("coffee.png")))
    path = manifest(tmp_path, [["A", "a.png", "1", "", "no"]])
    done = runner.invoke(app, ["sets", "import-media", str(path), "--name", "built"])
    assert done.exit_code == 0, done.output
    assert "1 pictures, 0 videos" in done.output
    bad = runner.invoke(app, ["sets", "import-media", str(manifest(tmp_path, [], "id")),
                              "--name", "built"])
    assert bad.exit_code == 2 and "media_id" in bad.output
