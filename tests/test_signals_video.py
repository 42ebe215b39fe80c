"""vPDQ-compatible video hashing and matching, on generated videos and perception's samples."""

from __future__ import annotations

import hashlib
import importlib.util
import io
from pathlib import Path

import pytest

from cvis.signals.image import hash_image_bytes
from cvis.signals.video import (
    VideoDecodeError,
    VideoMatchPolicy,
    frames_matching_image,
    from_vpdq_json,
    hash_video,
    match_videos,
    to_vpdq_json,
)
from tests.hashing_samples import encode, hamming, make_video, photo

SCENES = ("chelsea.png", "coffee.png", "rocket.jpg")


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("videos")
    scenes = [photo(n) for n in SCENES]
    return {
        "full": make_video(root / "full.mp4", scenes),
        "clip": make_video(root / "clip.mp4", scenes[1:2]),
        "other": make_video(root / "other.mp4", [photo("hubble_deep_field.jpg")]),
    }


def test_one_frame_per_second_with_timestamps_and_md5(videos: dict[str, Path]) -> None:
    signals = hash_video(videos["full"], collapse_distance=-1)
    assert signals.frames_decoded == 60 and signals.fps == pytest.approx(10)
    assert [f.frame_number for f in signals.frames] == list(range(0, 60, 10))
    assert [f.timestamp for f in signals.frames] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(f.quality >= 50 for f in signals.frames)
    assert signals.md5 == hashlib.md5(videos["full"].read_bytes()).hexdigest()


def test_near_identical_consecutive_frames_collapse(videos: dict[str, Path]) -> None:
    every = hash_video(videos["full"], seconds_per_hash=0.2, collapse_distance=-1)
    collapsed = hash_video(videos["full"], seconds_per_hash=0.2, collapse_distance=20)
    assert len(every.frames) == 30
    assert 3 <= len(collapsed.frames) < len(every.frames)


def test_streams_hash_like_paths(videos: dict[str, Path]) -> None:
    from_path = hash_video(videos["clip"])
    from_stream = hash_video(io.BytesIO(videos["clip"].read_bytes()))
    assert from_stream.frames == from_path.frames and from_stream.md5 == from_path.md5


def test_video_to_video_figures(videos: dict[str, Path]) -> None:
    full, clip, other = (hash_video(videos[k]).frames for k in ("full", "clip", "other"))
    policy = VideoMatchPolicy()
    assert match_videos(full, full).query_match_percent == 100.0
    found = match_videos(clip, full)
    assert found.query_match_percent == 100.0 and found.known_match_percent < 60.0
    assert policy.accepts(found)
    assert not policy.accepts(match_videos(other, full))
    strict = VideoMatchPolicy(known_match_percent=80.0)  # a set that wants whole videos
    assert not strict.accepts(found)


def test_known_image_is_found_as_a_frame(videos: dict[str, Path]) -> None:
    image = hash_image_bytes(encode(photo("coffee.png"), "JPEG", quality=90)).pdq
    frames = frames_matching_image(image, hash_video(videos["full"]).frames)
    assert frames and all(2.0 <= f.timestamp < 4.0 for f in frames)


def test_vpdq_json_round_trip(videos: dict[str, Path]) -> None:
    frames = hash_video(videos["clip"]).frames
    back = from_vpdq_json(to_vpdq_json(frames))
    assert [(f.hash, f.quality, f.timestamp) for f in back] == [
        (f.hash, f.quality, round(f.timestamp, 3)) for f in frames
    ]


def test_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00" * 1000)
    with pytest.raises(VideoDecodeError):
        hash_video(bogus)


_PERCEPTION = importlib.util.find_spec("perception")
SAMPLES = Path(_PERCEPTION.origin or "").parent / "testing" / "videos" if _PERCEPTION else Path()


@pytest.mark.skipif(not (SAMPLES / "v2.m4v").exists(), reason="perception not installed")
def test_perception_sample_clip_matches_its_source() -> None:
    v2 = hash_video(SAMPLES / "v2.m4v").frames
    v2s = hash_video(SAMPLES / "v2s.mov").frames
    v1 = hash_video(SAMPLES / "v1.m4v").frames
    clip = match_videos(v2s, v2)
    assert clip.query_match_percent == 100.0 and 0 < clip.known_match_percent < 100.0
    assert VideoMatchPolicy().accepts(clip)
    assert not VideoMatchPolicy().accepts(match_videos(v1, v2))
    assert min(hamming(a.hash, b.hash) for a in v2s for b in v2) == 0
