"""Disk images built with Debian tools (mtools, mke2fs, ewfacquire); skipped without them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cvis.evidence.custody import register_evidence, verify_evidence
from cvis.identify.hashpool import hash_items
from cvis.media.disks import DELETED, tsk_available
from cvis.media.folders import iter_media
from cvis.store.db import Store
from cvis.store.models import Case
from tests.disk_image_helpers import e01_set, fat_image, need, pictures, run

pytestmark = pytest.mark.skipif(tsk_available() is not None, reason=str(tsk_available()))


def by_suffix(paths: list[Path]) -> dict[str, dict]:
    return {r.path.split("!", 1)[-1]: r.to_dict() for r in hash_items(iter_media(paths), 1)}


def test_fat_image_files_and_recovered_deleted_file(tmp_path: Path) -> None:
    image = fat_image(tmp_path)
    rows = by_suffix([image])
    kept = by_suffix([tmp_path / "src" / "kept.png"])[str(tmp_path / "src" / "kept.png")]
    assert rows["/DCIM/kept.png"]["sha256"] == kept["sha256"]
    assert rows["/DCIM/kept.png"]["flags"] == []
    deleted = [r for r in rows.values() if DELETED in r["flags"]]
    assert len(deleted) == 1, "FAT keeps the deleted file's clusters: recovered and flagged"
    gone = by_suffix([tmp_path / "src" / "gone.jpg"])[str(tmp_path / "src" / "gone.jpg")]
    assert deleted[0]["sha256"] == gone["sha256"]
    assert all(path.startswith("/") for path in rows)


def test_ext4_image_is_read_through_its_file_system(tmp_path: Path) -> None:
    need("mke2fs")
    kept, _ = pictures(tmp_path / "src" / "pics")
    image = tmp_path / "disk.raw"
    run("mke2fs", "-q", "-t", "ext4", "-d", tmp_path / "src", image, "4M")
    rows = by_suffix([image])
    assert rows["/pics/kept.png"]["pdq"] == by_suffix([kept])[str(kept)]["pdq"]


def test_e01_image_names_files_and_verifies_its_stored_hash(
    tmp_path: Path, sqlite_store: Store
) -> None:
    [e01] = e01_set(fat_image(tmp_path), tmp_path / "card")
    rows = {r.path: r for r in hash_items(iter_media([e01]), 1)}
    assert rows[f"{e01}!/DCIM/kept.png"].pdq is not None
    with sqlite_store.session() as session:
        case = Case(number="E01")
        session.add(case)
        session.flush()
        evidence = register_evidence(session, case.id, e01, acquired_by="examiner")
        assert (evidence.kind, evidence.stored_hash_ok) == ("e01", True)
        assert evidence.stored_md5 and len(evidence.stored_md5) == 32
        assert verify_evidence(session, evidence.id).unchanged
        assert session.scalars(select(Case)).one().number == "E01"


def test_ntfs_image_lists_files_not_file_system_records(tmp_path: Path) -> None:
    need("mkntfs", "ntfscp")
    kept, _ = pictures(tmp_path / "src")
    image = tmp_path / "ntfs.img"
    with image.open("wb") as f:
        f.truncate(8 << 20)
    run("mkntfs", "-q", "-F", "-Q", image)
    run("ntfscp", image, kept, "kept.png")
    rows = by_suffix([image])
    assert list(rows) == ["/kept.png"], "no $MFT, $LogFile... items"
    assert rows["/kept.png"]["sha256"] == by_suffix([kept])[str(kept)]["sha256"]


def test_partitioned_image_names_each_partition(tmp_path: Path) -> None:
    import struct

    need("mkfs.vfat", "mcopy")
    kept, gone = pictures(tmp_path / "src")
    image = tmp_path / "disk.dd"
    mbr = bytearray(512)
    for slot, start in enumerate((2048, 10240)):
        mbr[446 + 16 * slot: 462 + 16 * slot] = struct.pack(
            "<B3sB3sII", 0, bytes(3), 0x06, bytes(3), start, 8192)
    mbr[510:512] = b"\x55\xaa"
    with image.open("wb") as f:
        f.truncate(12 << 20)
        f.write(mbr)
    for start, picture_path in ((2048, kept), (10240, gone)):
        run("mkfs.vfat", f"--offset={start}", image, "4096")
        run("mcopy", "-i", f"{image}@@{start * 512}", picture_path, f"::/{picture_path.name}")
    assert set(by_suffix([image])) == {"/partition1/kept.png", "/partition2/gone.jpg"}
