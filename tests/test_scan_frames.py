"""Every frame of an animation (and a video) is looked up, whatever the first frame holds."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from cvis.cases.scanning import run_scan
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.signals.image import hash_image_bytes
from cvis.store.db import Store
from tests.hashing_samples import encode, make_video, photo

SIZE = (320, 240)


def known(store: Store, tmp_path: Path) -> None:
    value = hash_image_bytes(encode(photo("rocket.jpg").resize(SIZE))).pdq
    path = tmp_path / "known.csv"
    with path.open("w", newline="") as stream:
        csv.writer(stream).writerows([["media_id", "pdq"], ["ROCKET", value]])
    with store.session() as session:
        import_file(session, path, name="known")


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_with_a_blank_first_frame_matches_on_a_later_frame(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    known(store, tmp_path)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    blank = Image.new("RGB", SIZE, (255, 255, 255))
    frames = [photo("chelsea.png").resize(SIZE), photo("rocket.jpg").resize(SIZE)]
    (evidence / f"anim.{fmt.lower()}").write_bytes(
        encode(blank, fmt, save_all=True, append_images=frames, duration=100, loop=0))
    scan_id = run_scan(store, ScanRequest("ANIM-1", [evidence], workers=1))
    with store.session() as session:
        [row] = list(iter_scan_results(session, scan_id))
    assert [(m["media_id"], m["signal"]) for m in row["matches"]] == [("ROCKET", "pdq")]
    assert row["matches"][0]["distance"] <= 10


def test_video_with_a_blank_opening_matches_on_a_later_frame(
    store: Store, tmp_path: Path
) -> None:
    known(store, tmp_path)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    make_video(evidence / "clip.mp4", [Image.new("RGB", SIZE, (0, 0, 0)), photo("rocket.jpg")])
    scan_id = run_scan(store, ScanRequest("VID-2", [evidence], workers=1))
    with store.session() as session:
        [row] = list(iter_scan_results(session, scan_id))
    assert [m["media_id"] for m in row["matches"]] == ["ROCKET"]
