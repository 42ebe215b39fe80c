"""Known videos in hash lists: vPDQ files and threatexchange's vpdq signal strings come and go
whole; an HMA, CSV or NCMEC list that gives one video's frames in several rows keeps every one
of them as one item, and a list that gives one item two different digests is refused."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from cvis.hashsets.formats import detect_format, get_format
from cvis.hashsets.records import KnownRecord, RecordError
from cvis.hashsets.service import (
    InvalidSetting,
    configure_set,
    export_set,
    import_stream,
)
from cvis.identify.matcher import Matcher
from cvis.identify.video_match import VideoThresholds, known_video_frames
from cvis.signals.vpdq import parse_frames
from cvis.store.db import Store


def pdq(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


# What Meta's vpdq writes for a video (frame number, quality, PDQ, timestamp), with a second
# video marked the way cvis writes several to one file.
VPDQ_FILE = (
    "# vpdq media_id=KV-1\n"
    + "".join(f"{n * 30},{90 + n},{pdq(f'a{n}')},{n:.3f}\n" for n in range(6))
    + "# vpdq media_id=KV-2\n"
    + "".join(f"{n * 25},{40 + 10 * n},{pdq(f'b{n}')},{n * 1.5:.3f}\n" for n in range(4))
)


def _read(fmt: str, text: str) -> list[KnownRecord | RecordError]:
    return list(get_format(fmt).read(io.StringIO(text)))


def test_vpdq_file_round_trips_and_each_set_has_video_thresholds(store: Store) -> None:
    assert detect_format(VPDQ_FILE).name == "vpdq"
    with store.session() as session:
        report = import_stream(session, io.StringIO(VPDQ_FILE), name="videos", format_name="vpdq")
    assert report.added == 2
    with store.session() as session:
        out = io.StringIO()
        export_set(session, "videos", "vpdq", out)
        assert out.getvalue() == VPDQ_FILE  # every frame, number, quality and time kept
        hma = io.StringIO()
        export_set(session, "videos", "hma", hma)
        # a second import of the same list changes nothing
        again = import_stream(session, io.StringIO(VPDQ_FILE), name="videos")
        assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    # HMA carries threatexchange's signal string: 'pdq,quality,timestamp', no frame numbers
    rows = [r for r in _read("hma", hma.getvalue()) if isinstance(r, KnownRecord)]
    (first, second) = sorted(rows, key=lambda r: r.media_id)
    strings = json.loads(first.signals["vpdq"])
    assert strings[1] == f"{pdq('a1')},91,1.000" and len(strings) == 6
    assert [f.timestamp for f in parse_frames(second.signals["vpdq"])] == [0.0, 1.5, 3.0, 4.5]
    # the index proposes a video through its frames of quality 50 or more only
    with store.session() as session:
        assert _lookup(session, [pdq("b0")]) == []  # quality 40
        frames = known_video_frames(session, {m.known_media_pk for m in _lookup(
            session, [pdq("a2"), pdq("b3")])})
    assert sorted(len(f) for f in frames.values()) == [3, 6]  # KV-2: qualities 40..70
    # each set has its video thresholds, in percent, checked like the others
    with store.session() as session:
        configure_set(session, "videos", thresholds={"vpdq_query": 95, "vpdq_compared": 70})
        with pytest.raises(InvalidSetting, match="vpdq_query must be 0-100"):
            configure_set(session, "videos", thresholds={"vpdq_query": 101})
        configure_set(session, "other", thresholds={})
        matcher = Matcher(session, ["videos", "other"])
        assert VideoThresholds.of(matcher.hash_set("videos")) == VideoThresholds(95.0, 70.0)
        assert VideoThresholds.of(matcher.hash_set("other")) == VideoThresholds(80.0, 50.0)


def _lookup(session: object, values: list[str]) -> list:
    from cvis.identify.matcher import Query

    matcher = Matcher(session, ["videos"])  # type: ignore[arg-type]
    return [m for found in matcher.match([Query("pdq", v, 100) for v in values]) for m in found]


def test_hma_frame_rows_of_one_media_id_are_kept_as_one_video() -> None:
    """89 frame rows for 6 media ids: 6 videos holding 89 frames, none cut to its last."""
    counts = [20, 17, 15, 14, 12, 11]
    rows = [f"pdq,{pdq(f'{m}/{i}')},M{m},1,,true" for m, n in enumerate(counts) for i in range(n)]
    text = "signal_type,signal_value,media_id,category,series,victim_identified\n"
    items = _read("hma", text + "\n".join(rows) + "\n")
    videos = [i for i in items if isinstance(i, KnownRecord)]
    assert [len(parse_frames(v.signals["vpdq"])) for v in videos] == counts
    assert all(v.victim_identified and v.category == 1 for v in videos)
    # a CSV list giving one frame a row keeps them too, with the times it gives
    csv_text = "media_id,pdq,quality,timestamp\n" + "".join(
        f"C1,{pdq(str(i))},{70 + i},{2.0 * i}\n" for i in range(5))
    (video,) = _read("csv", csv_text)
    assert isinstance(video, KnownRecord)
    frames = parse_frames(video.signals["vpdq"])
    assert [(f.quality, f.timestamp) for f in frames] == [(70 + i, 2.0 * i) for i in range(5)]
    assert video.extra == {}


def test_two_different_digests_for_one_media_id_are_refused_not_cut() -> None:
    text = ("signal_type,signal_value,media_id\n"
            f"md5,{md5('a')},X1\npdq,{pdq('f0')},X1\nmd5,{md5('b')},X1\npdq,{pdq('f1')},X1\n"
            f"md5,{md5('c')},X2\n")
    refused, kept = _read("hma", text)  # X1 refused whole (an import without --skip-bad
    assert isinstance(refused, RecordError) and isinstance(kept, KnownRecord)  # stops), X2 kept
    assert refused.line == 4 and "'X1' has two md5 values" in refused.reason


def test_ncmec_video_entries_keep_every_pdq(tmp_path: Path) -> None:
    frames = "".join(f"<pdq>{pdq(f'n{i}')}</pdq>" for i in range(5))
    text = ('<?xml version="1.0"?>\n<hashList>\n'
            f'  <video id="NV-1"><md5>{md5("clip")}</md5>{frames}</video>\n'
            f'  <image id="NI-1"><pdq>{pdq("x")}</pdq><pdq>{pdq("y")}</pdq></image>\n'
            "</hashList>\n")
    video, picture = _read("ncmec", text)
    assert isinstance(video, KnownRecord) and isinstance(picture, RecordError)
    assert "more than one <pdq>" in picture.reason
    assert [f.hash for f in parse_frames(video.signals["vpdq"])] == [
        pdq(f"n{i}") for i in range(5)]
    out = io.StringIO()
    get_format("ncmec").write([video], out)
    assert out.getvalue().count("<pdq ") == 5 and _read("ncmec", out.getvalue()) == [video]
    # a vpdq file named by its file name: one video
    path = tmp_path / "clip-77.txt"
    path.write_text("".join(f"{i},100,{pdq(str(i))},{i}.000\n" for i in range(3)))
    (named,) = get_format("vpdq").read(path.open())
    assert isinstance(named, KnownRecord) and named.media_id == "clip-77"
