"""The ORB keypoint signal: sets built from media find what PDQ cannot (portrait crops,
small rotations), say which signal found them, and leave unrelated pictures alone."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from cvis.cases.scanning import run_scan
from cvis.hashsets.media_import import import_media
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.signals.keypoints import (
    KNOWN_KEYPOINTS,
    KeypointIndex,
    OrbSignal,
    keypoint_values,
    spread_count,
)
from cvis.store.db import Store
from tests.hashing_samples import encode, photo
from tests.signal_type_test_helper import SignalTypeContract


class TestOrb(SignalTypeContract):
    signal_type = OrbSignal


def test_index_finds_a_rotated_crop_and_not_another_picture() -> None:
    known = {name: keypoint_values(np.asarray(photo(name)), KNOWN_KEYPOINTS)
             for name in ("chelsea.png", "coffee.png", "rocket.jpg")}
    ids, media, values = [], [], []
    for number, (_, found) in enumerate(sorted(known.items())):
        ids += [number * 1000 + k for k in range(len(found))]
        media += [number] * len(found)
        values += found
    index = KeypointIndex.build(ids, values, media)
    turned = photo("coffee.png").rotate(3, resample=Image.Resampling.BICUBIC).crop(
        (40, 30, 380, 380))
    query = OrbSignal.query_values(keypoint_values(np.asarray(turned), 800))
    [hits] = index.search(query, OrbSignal.default_threshold)
    assert [media_id // 1000 for media_id, _ in hits] == [1]  # coffee, sorted name order
    other = OrbSignal.query_values(keypoint_values(np.asarray(photo("motorcycle_left.png")), 800))
    assert index.search(other, OrbSignal.default_threshold) == [[]]


def test_agreement_in_one_patch_counts_little() -> None:
    clustered = np.full((40, 2), 100.0) + np.arange(40)[:, None] * 0.5
    spread = np.stack(np.meshgrid(np.arange(5) * 100 + 10, np.arange(8) * 60 + 10),
                      axis=-1).reshape(-1, 2).astype(float)
    assert spread_count(clustered) <= 4 and spread_count(spread) == 40


def test_set_built_from_media_finds_a_portrait_crop(store: Store, tmp_path: Path) -> None:
    landscape = photo("chelsea.png")
    (tmp_path / "cat.jpg").write_bytes(encode(landscape, "JPEG", quality=92))
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="") as stream:
        csv.writer(stream).writerows([["media_id", "file", "category"], ["CAT", "cat.jpg", "2"]])
    with store.session() as session:
        import_media(session, manifest, name="built")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    w, h = landscape.size
    landscape.crop((w // 4, 0, w // 4 + h * 3 // 4, h)).save(evidence / "portrait.jpg",
                                                            quality=85)
    photo("rocket.jpg").save(evidence / "other.jpg", quality=85)
    scan_id = run_scan(store, ScanRequest("ORB-1", [evidence], workers=1))
    with store.session() as session:
        rows = {Path(r["path"]).name: r for r in iter_scan_results(session, scan_id)}
    found = rows["portrait.jpg"]["matches"]
    assert [(m["media_id"], m["signal"]) for m in found] == [("CAT", "orb")]
    assert found[0]["distance"] <= OrbSignal.default_threshold and found[0]["category"] == 2
    assert rows["other.jpg"]["matches"] == []


def test_keypoints_are_computed_only_when_a_set_can_match_them(tmp_path: Path) -> None:
    from cvis.hashing import HashingLimits, HashRecord, decode_picture

    picture = encode(photo("coffee.png"), "JPEG", quality=90)
    every, pdq_only = HashRecord("a.jpg"), HashRecord("a.jpg")
    decode_picture(every, picture, HashingLimits())
    decode_picture(pdq_only, picture, HashingLimits(picture_signals=frozenset({"md5", "pdq"})))
    assert set(every.signals) == {"orb"} and len(every.signals["orb"]) > 100
    assert pdq_only.signals == {} and pdq_only.pdq == every.pdq


def test_a_scan_asks_only_for_the_signals_its_sets_hold(store: Store) -> None:
    import io

    from cvis.hashsets.service import import_stream
    from cvis.identify.matcher import Matcher

    with store.session() as session:
        import_stream(session, io.StringIO("media_id,md5\nm1," + "0" * 32 + "\n"),
                      name="md5-only")
    with store.session() as session:
        assert Matcher(session, ["md5-only"]).signals() == {"md5"}
