"""The copies phones make, found through the picture path's variants; every container FFmpeg
reads is hashed; limits that keep evidence (digests survive a time limit)."""

from __future__ import annotations

import csv
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageOps

from cvis.cases.scanning import run_scan
from cvis.hashing import hash_item
from cvis.hashsets.service import import_file
from cvis.identify.hashpool import hash_items
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.media.folders import file_item, iter_media
from cvis.signals.video import hash_video
from cvis.store.db import Store
from tests.hashing_samples import hamming, make_video, photo

SCENES = ("chelsea.png", "coffee.png", "rocket.jpg")


def _write(path: Path, frames: list[Image.Image], fmt: str | None, codec: str,
           fps: int = 10, size: tuple[int, int] = (320, 240)) -> Path:
    with av.open(str(path), mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_image(frame.resize(size))):
                container.mux(packet)
        container.mux(stream.encode(None))
    return path


def _frames(scenes: list[Image.Image], seconds: int = 2, fps: int = 10) -> list[Image.Image]:
    """The frames ``make_video`` draws (each scene with a small moving square)."""
    count, out = seconds * fps, []
    for scene in scenes:
        for i in range(count):
            frame = scene.resize((320, 240))
            x = i * (320 - 16) // count
            frame.paste((128, 128, 128), (x, 8, x + 16, 24))
            out.append(frame)
    return out


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The frame hashes of the original clip."""
    root = tmp_path_factory.mktemp("known")
    clip = make_video(root / "known.mp4", [photo(n) for n in SCENES])
    return [f.hash for f in hash_video(clip).frames]


def _found(record_variants: list[str], known: list[str]) -> int:
    """How many known frames some hash of the copy lands within 31 bits of."""
    return sum(any(hamming(k, v) <= 31 for v in record_variants) for k in known)


def _all_hashes(path: Path) -> list[str]:
    record = hash_item(file_item(path))
    assert record.error is None, record.error
    return [v.hash for v in record.pdq_variants]


@pytest.mark.parametrize("ext, fmt, codec", [
    ("mp4", "mp4", "libx264"), ("mov", "mov", "libx264"), ("3gp", "3gp", "h263"),
    ("mkv", "matroska", "libx264"), ("webm", "webm", "libvpx"), ("avi", "avi", "mpeg4"),
    ("ts", "mpegts", "mpeg2video"), ("flv", "flv", "flv"), ("mpg", "mpeg", "mpeg1video"),
    ("wmv", "asf", "wmv2"),
])
def test_every_container_is_hashed_not_skipped(
    tmp_path: Path, known: list[str], ext: str, fmt: str, codec: str
) -> None:
    size = (352, 288) if codec == "h263" else (320, 240)
    fps = 25 if codec == "mpeg1video" else 10  # MPEG-1 allows only the broadcast rates
    path = _write(tmp_path / f"copy.{ext}", _frames([photo(n) for n in SCENES], fps=fps),
                  fmt, codec, fps=fps, size=size)
    record = hash_item(file_item(path))
    assert record.error is None and record.md5
    assert not any(f.startswith("extension mismatch") for f in record.flags), record.flags
    assert _found([v.hash for v in record.pdq_variants], known) >= len(known) - 1


@pytest.mark.parametrize("edit", ["flipped", "sideways", "letterboxed"])
def test_flipped_sideways_and_letterboxed_copies_are_found(
    tmp_path: Path, known: list[str], edit: str
) -> None:
    frames = _frames([photo(n) for n in SCENES])
    size = (320, 240)
    if edit == "flipped":
        frames = [ImageOps.mirror(f) for f in frames]
    elif edit == "sideways":  # frames stored rotated, as a phone records them
        frames, size = [f.rotate(90, expand=True) for f in frames], (240, 320)
    else:
        frames = [ImageOps.pad(f, (320, 360), color=(0, 0, 0)) for f in frames]
        size = (320, 360)
    path = _write(tmp_path / f"{edit}.mp4", frames, "mp4", "libx264", size=size)
    assert _found(_all_hashes(path), known) >= len(known) - 1


def test_an_unrelated_clip_does_not_match(tmp_path: Path, known: list[str]) -> None:
    other = make_video(tmp_path / "other.mp4", [photo("hubble_deep_field.jpg")])
    assert _found(_all_hashes(other), known) == 0


def test_audio_only_is_flagged_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "voice.m4a"
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = np.zeros((1, 16000), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        container.mux(stream.encode(None))
    record = hash_item(file_item(path))
    assert record.error is None and record.md5
    assert "audio only: no video stream" in record.flags


def test_a_truncated_video_is_flagged(tmp_path: Path) -> None:
    full = make_video(tmp_path / "full.mkv", [photo(n) for n in SCENES], seconds_each=3.0)
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    record = hash_item(file_item(cut))
    assert record.md5 and any(f.startswith("truncated") for f in record.flags), record.flags


def test_a_frame_larger_than_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    from cvis.hashing import HashingLimits

    clip = make_video(tmp_path / "big.mp4", [photo()])
    record = hash_item(file_item(clip), HashingLimits(max_pixels=10_000))
    assert record.error and record.error.startswith("decompression bomb")
    assert record.md5


def test_a_timed_out_video_keeps_its_digests_and_still_matches_exact_lists(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading gets seconds (a busy machine may take longer than 5 MB/s allows for a worker's
    # first item); decoding gets 0.01 s, which no video meets.
    from cvis.identify import hashpool

    monkeypatch.setattr(hashpool, "READ_RATE_FLOOR", 10_000)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    clip = make_video(evidence / "long.mp4", [photo(n) for n in SCENES], seconds_each=6.0)
    records = list(hash_items(iter_media([clip]), 1, time_limit=0.01))
    assert records[0].error and records[0].error.startswith("time limit")
    assert records[0].md5 == hash_item(file_item(clip)).md5
    known = tmp_path / "known.csv"
    with known.open("w", newline="") as f:
        csv.writer(f).writerows([["media_id", "md5", "category"], ["V1", records[0].md5, 1]])
    with store.session() as session:
        import_file(session, known, name="videos")
    scan_id = run_scan(store, ScanRequest("CASE-V", [evidence], workers=1, time_limit=0.01))
    with store.session() as session:
        (row,) = list(iter_scan_results(session, scan_id))
    assert row["error"].startswith("time limit")
    assert [(m["media_id"], m["signal"]) for m in row["matches"]] == [("V1", "md5")]
