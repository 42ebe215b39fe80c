"""Disk images read where they live: raw and E01 images that are objects in a store (a real
S3-compatible server on loopback) give the local scan's items, digests, PDQ and matches and
the E01's stored-MD5 check in custody; a raw image stored uncompressed in a zip is opened;
a truncated image or an E01 set missing a segment is flagged and the scan goes on."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import zipfile
from pathlib import Path

import pytest

from cvis.cases.scanning import run_scan
from cvis.cases.service import get_or_create_case
from cvis.evidence.custody import e01_stored_hash, register_evidence
from cvis.identify.hashpool import hash_items
from cvis.identify.scan import ScanRequest
from cvis.media.disks import DELETED, INCOMPLETE, TRUNCATED, tsk_available
from cvis.media.folders import NOT_SEEKABLE, iter_media
from cvis.media.locate import clear_cache
from cvis.media.objects import CACHE_BYTES, READ_MOST, ObjectFile, segment_number, segment_uris
from cvis.store.db import Store
from tests.disk_image_helpers import e01_set, fat_image
from tests.object_store_helpers import ObjectStore
from tests.test_scan_sources import known_set, results

pytestmark = pytest.mark.skipif(tsk_available() is not None, reason=str(tsk_available()))


def disk_evidence(tmp_path: Path, picture: Path) -> Path:
    """A raw card image and the same card acquired as a three-segment E01 set."""
    work = tmp_path / "work"
    work.mkdir()
    raw = fat_image(work, picture, mib=2)
    evidence = tmp_path / "evidence"
    (evidence / "raw").mkdir(parents=True)
    shutil.copy(raw, evidence / "raw" / "card.img")
    segments = e01_set(raw, work / "card", segment_mib=1)
    assert len(segments) == 3
    for segment in segments:
        shutil.copy(segment, evidence / segment.name)
    return evidence


def test_disk_images_in_a_store_give_the_local_scan_s_results(
    store: Store, object_store: ObjectStore, sample_pictures: dict[str, Path], tmp_path: Path,
) -> None:
    evidence = disk_evidence(tmp_path, sample_pictures["chelsea"])
    sets = known_set(store, sample_pictures, tmp_path / "known.csv")
    prefix = object_store.upload(evidence, "evidence-disks", tmp_path.name)
    local = run_scan(store, ScanRequest("LOCAL", [evidence], sets, workers=1))
    in_store = run_scan(store, ScanRequest("BUCKET", [prefix], sets, workers=1))
    expected, got = results(store, local, str(evidence)), results(store, in_store, prefix[:-1])
    assert got == expected
    for image in ("/card.E01", "/raw/card.img"):
        assert expected[f"{image}!/DCIM/chelsea.png"][6], "the known picture matches"
        assert expected[f"{image}!/DCIM/kept.png"][2] is not None
        assert any(DELETED in v[5] for k, v in expected.items() if k.startswith(image))
    assert "E01 segment 2: its files are listed under the set's first segment" in \
        expected["/card.E02"][5], "one set, listed once"
    with store.session() as session:  # custody of the E01 object: its stored MD5 verifies
        case = get_or_create_case(session, "OBJECT")
        recorded = register_evidence(session, case.id, f"{prefix}card.E01")
        assert recorded is not None and recorded.kind == "object"
        assert (recorded.stored_md5, recorded.stored_hash_ok) == \
            (e01_stored_hash(evidence / "card.E01")[0], True)


def test_a_truncated_image_and_incomplete_e01_sets_are_flagged_and_the_scan_goes_on(
    object_store: ObjectStore, sample_pictures: dict[str, Path], tmp_path: Path,
) -> None:
    whole = disk_evidence(tmp_path, sample_pictures["chelsea"])
    evidence = tmp_path / "bad"
    evidence.mkdir()
    with (whole / "raw" / "card.img").open("rb") as image:  # the picture's clusters cut off
        (evidence / "cut.img").write_bytes(image.read(128 << 10))
    for number in (1, 3):  # segment 2 missing
        shutil.copy(whole / f"card.E0{number}", evidence / f"gap.E0{number}")
    for number in (1, 2):  # the last segment missing
        shutil.copy(whole / f"card.E0{number}", evidence / f"end.E0{number}")
    (evidence / "zz.txt").write_text("benign\n")
    prefix = object_store.upload(evidence, "evidence-disks", f"{tmp_path.name}-bad")
    clear_cache()
    rows = {r.path.removeprefix(prefix): r for r in hash_items(iter_media([prefix]), 1)}
    assert TRUNCATED in rows["cut.img!/DCIM/chelsea.png"].flags
    assert TRUNCATED not in rows["cut.img!/DCIM/kept.png"].flags
    assert rows["cut.img!/DCIM/kept.png"].sha256 is not None
    assert rows["gap.E01"].error == "E01 segment set incomplete: segment 2 of gap missing"
    assert rows["end.E01"].error == INCOMPLETE and rows["end.E01"].sha256 is None
    assert rows["end.E01!/DCIM/kept.png"].sha256 == rows["cut.img!/DCIM/kept.png"].sha256, \
        "the files in the segments there are listed and hashed"
    assert rows["gap.E03"].flags == ["E01 segment 3: its files are listed under the set's "
                                     "first segment"]
    assert rows["zz.txt"].sha256 is not None


def test_disk_images_stored_in_a_zip_are_opened_and_a_compressed_one_is_flagged(
    tmp_path: Path,
) -> None:
    raw = fat_image(tmp_path)
    [e01] = e01_set(raw, tmp_path / "card")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    with zipfile.ZipFile(evidence / "stored.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.write(raw, "cards/card.img")
        archive.write(e01, "cards/card.E01")
    with zipfile.ZipFile(evidence / "packed.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(e01, "card.E01")
    rows = {r.path.removeprefix(str(evidence)): r for r in hash_items(iter_media([evidence]), 1)}
    alone = {r.path.removeprefix(str(raw)): r for r in hash_items(iter_media([raw]), 1)}
    for image in ("/stored.zip!cards/card.img", "/stored.zip!cards/card.E01"):
        assert rows[f"{image}!/DCIM/kept.png"].sha256 == alone["!/DCIM/kept.png"].sha256
        assert any(DELETED in r.flags for k, r in rows.items() if k.startswith(image))
    assert NOT_SEEKABLE in rows["/packed.zip!card.E01"].flags
    assert rows["/packed.zip!card.E01"].sha256 == hashlib.sha256(e01.read_bytes()).hexdigest()


def test_segments_are_found_in_order_and_reads_hold_a_few_blocks(
    object_store: ObjectStore, tmp_path: Path,
) -> None:
    extensions = ("E01", "e02", "E99", "EAA", "EBA", "FAA", "E00", "E0A", "E1")
    assert [segment_number(e) for e in extensions] == [1, 2, 99, 100, 126, 776, None, None, None]
    folder = tmp_path / "set"
    folder.mkdir()
    data = random.Random(7).randbytes((5 << 20) + 7)
    for name in ("x.E02", "x.E01", "x.exe", "x.txt", "xy.E03"):
        (folder / name).write_bytes(data if name == "x.E01" else b"benign")
    prefix = object_store.upload(folder, "evidence-disks", f"{tmp_path.name}-set")
    assert segment_uris(f"{prefix}x.E01") == [f"{prefix}x.E01", f"{prefix}x.E02"]
    assert segment_uris(f"{prefix}x.exe") == [f"{prefix}x.exe"], "not a first segment's name"
    with ObjectFile(f"{prefix}x.E01") as stream:
        for offset in random.Random(8).sample(range(len(data) - 100), 40):
            stream.seek(offset)
            assert stream.read(100) == data[offset: offset + 100]
            assert stream.cache.held <= CACHE_BYTES
        stream.seek(-3, io.SEEK_END)
        assert stream.read(10) == data[-3:]
    fetches: list[int] = []
    with ObjectFile(f"{prefix}x.E01") as stream:  # read through: ever larger reads ahead
        fetch = stream.cache.fetch
        stream.cache.fetch = lambda *a: fetches.append(a[2]) or fetch(*a)  # type: ignore
        assert b"".join(iter(lambda: stream.read(32 << 10), b"")) == data
        assert stream.cache.held <= CACHE_BYTES
    assert max(fetches) == READ_MOST and len(fetches) < 12
