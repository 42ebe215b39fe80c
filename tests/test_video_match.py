"""Seized videos matched to known videos as videos: one candidate per (seized, known) pair with
vPDQ's two percentages and the matching time ranges; a shared end-card makes no match, an
end-card common to several known videos weighs nothing, and each set has its thresholds."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from cvis.cases.scanning import run_scan
from cvis.hashing import hash_item
from cvis.hashsets.media_import import import_media
from cvis.hashsets.service import configure_set
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.identify.video_match import compare, known_video_frames, seized_frames
from cvis.media.folders import file_item
from cvis.store.db import Store
from cvis.store.models import KnownMedia
from tests.hashing_samples import make_video, photo


def _end_card() -> Image.Image:
    card = Image.new("RGB", (320, 240), (20, 30, 120))
    draw = ImageDraw.Draw(card)
    draw.ellipse((120, 60, 200, 140), fill=(240, 200, 40))
    return card


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    known_scenes = [photo(n) for n in ("chelsea.png", "coffee.png", "rocket.jpg",
                                       "hubble_deep_field.jpg")]
    other = [photo(n) for n in ("brick.png", "grass.png", "gravel.png", "moon.png")]
    (root / "known").mkdir()
    (root / "seized").mkdir()
    return {
        "known": make_video(root / "known" / "known.mp4", known_scenes + [_end_card()],
                            seconds_each=3.0),
        "excerpt": make_video(root / "seized" / "excerpt.mp4", known_scenes[1:3],
                              seconds_each=3.0),
        "compilation": make_video(root / "seized" / "compilation.mkv",
                                  other[:2] + known_scenes + other[2:], seconds_each=3.0),
        "end-card": make_video(root / "seized" / "unrelated_with_end_card.mp4",
                               other + [_end_card()], seconds_each=3.0),
        "unrelated": make_video(root / "seized" / "unrelated.mp4", other, seconds_each=3.0),
    }


def _import_known(store: Store, clip: Path) -> None:
    manifest = clip.parent / "manifest.csv"
    with manifest.open("w", newline="") as f:
        csv.writer(f).writerows([["media_id", "file", "category", "victim_identified"],
                                 ["KV1", clip.name, 1, "true"]])
    with store.session() as session:
        import_media(session, manifest, name="known-videos")


def test_video_matches_are_judged_as_videos(store: Store, clips: dict[str, Path]) -> None:
    _import_known(store, clips["known"])
    seized = clips["excerpt"].parent
    scan_id = run_scan(store, ScanRequest("CASE-VIDEO", [seized], ["known-videos"], workers=1))
    with store.session() as session:
        rows = {Path(r["path"]).name: r for r in iter_scan_results(session, scan_id)}

    (excerpt,) = rows["excerpt.mp4"]["matches"]
    assert (excerpt["media_id"], excerpt["signal"]) == ("KV1", "vpdq")
    assert excerpt["query_match_percent"] >= 80
    assert 20 <= excerpt["compared_match_percent"] <= 60
    assert excerpt["query_ranges"] and excerpt["compared_ranges"]
    assert excerpt["compared_ranges"][0][0] >= 2.0  # the excerpt starts 3 s into the known clip

    (compilation,) = rows["compilation.mkv"]["matches"]
    assert compilation["signal"] == "vpdq" and compilation["compared_match_percent"] >= 50
    assert compilation["query_match_percent"] < 80  # most of it is other material

    assert rows["unrelated_with_end_card.mp4"]["matches"] == []
    assert rows["unrelated.mp4"]["matches"] == []


def test_a_picture_that_is_a_frame_of_a_known_video_is_reported(
    store: Store, clips: dict[str, Path], tmp_path: Path
) -> None:
    _import_known(store, clips["known"])
    still = tmp_path / "still.png"
    photo("coffee.png").resize((320, 240)).save(still)
    scan_id = run_scan(store, ScanRequest("CASE-STILL", [still], ["known-videos"], workers=1))
    with store.session() as session:
        (row,) = list(iter_scan_results(session, scan_id))
    assert [(m["media_id"], m["signal"]) for m in row["matches"]] == [("KV1", "pdq")]


@pytest.fixture(scope="module")
def end_card_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four unrelated known clips that end with the same app end-card, a copy of the first,
    and two unrelated seized clips that are mostly that end-card."""
    root = tmp_path_factory.mktemp("end-cards")
    card = _end_card()
    scenes = {f"KC{i}": [photo(a), photo(b)] for i, (a, b) in enumerate(
        [("chelsea.png", "coffee.png"), ("rocket.jpg", "motorcycle_left.png"),
         ("hubble_deep_field.jpg", "retina.jpg"), ("coins.png", "horse.png")], start=1)}
    (root / "known").mkdir()
    (root / "seized").mkdir()
    rows = [["media_id", "file", "category", "victim_identified"]]
    for name, pictures in scenes.items():
        make_video(root / "known" / f"{name}.mp4", [*pictures, card, card], seconds_each=1.5)
        rows.append([name, f"{name}.mp4", "1", "true"])
    with (root / "known" / "manifest.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    make_video(root / "seized" / "copy.mp4", [*scenes["KC1"], card, card], seconds_each=1.5,
               size=(256, 192))
    for other in ("brick.png", "grass.png"):
        make_video(root / "seized" / f"app-{other}.mp4", [photo(other), card, card, card],
                   seconds_each=1.5)
    return {"root": root}


def test_an_end_card_common_to_known_videos_weighs_nothing(
    store: Store, end_card_clips: dict[str, Path]
) -> None:
    root = end_card_clips["root"]
    with store.session() as session:
        import_media(session, root / "known" / "manifest.csv", name="known-videos")
    scan_id = run_scan(store, ScanRequest("CASE-CARD", [root / "seized"], ["known-videos"],
                                          workers=1))
    with store.session() as session:
        rows = {Path(r["path"]).name: r for r in iter_scan_results(session, scan_id)}
        kc1 = session.scalar(select(KnownMedia.id).where(KnownMedia.media_id == "KC1"))
        (known,) = known_video_frames(session, {kc1}).values()
    (copy,) = rows["copy.mp4"]["matches"]
    assert (copy["media_id"], copy["signal"]) == ("KC1", "vpdq")
    assert copy["common_frames_ignored"] >= 2 and copy["query_match_percent"] >= 80
    for name in ("app-brick.png.mp4", "app-grass.png.mp4"):
        assert rows[name]["matches"] == []
        # mostly end-card: without setting the common frames aside it would be KC1
        seized = seized_frames(hash_item(file_item(root / "seized" / name)))
        assert seized is not None and compare(seized, known).accepted()


def test_video_thresholds_are_the_sets(store: Store, clips: dict[str, Path]) -> None:
    _import_known(store, clips["known"])
    with store.session() as session:
        configure_set(session, "known-videos", create=False,
                      thresholds={"vpdq_query": 80, "vpdq_compared": 90})
    seized = [clips["excerpt"], clips["compilation"]]
    scan_id = run_scan(store, ScanRequest("CASE-STRICT", seized, ["known-videos"], workers=1))
    with store.session() as session:
        rows = {Path(r["path"]).name: r for r in iter_scan_results(session, scan_id)}
    assert [m["media_id"] for m in rows["excerpt.mp4"]["matches"]] == ["KV1"]  # query 100 %
    assert rows["compilation.mkv"]["matches"] == []  # 80 % of KV1 is in it: under 90
