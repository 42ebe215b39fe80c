"""Evidence intake: containers, real types, hostile input, throughput parts, custody."""

from __future__ import annotations

import gzip
import io
import shutil
import struct
import tarfile
import time
import zipfile
import zlib
from functools import partial
from pathlib import Path

import py7zr
import pytest
from PIL import Image

from cvis.hashing import HashingLimits, hash_item
from cvis.identify.hashpool import HashPool, PoolSettings, hash_items
from cvis.media.folders import iter_media
from cvis.media.items import MediaItem
from cvis.media.limits import IntakeLimits


def picture(path: Path, colour: tuple[int, int, int] = (200, 30, 30), size: int = 64) -> Path:
    image = Image.new("RGB", (size, size), colour)
    image.paste((10, 10, 240), (0, 0, size // 2, size // 3))
    image.save(path)
    return path


def listed(paths: list[Path], limits: IntakeLimits | None = None) -> dict[str, MediaItem]:
    return {item.name: item for item in iter_media(paths, limits)}


def hashed(paths: list[Path], workers: int = 1, **kw: object) -> dict[str, dict]:
    records = hash_items(iter_media(paths), workers, **kw)  # type: ignore[arg-type]
    return {r.path: r.to_dict() for r in records}


# --- containers ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode,suffix", [("w", ".tar"), ("w:gz", ".tar.gz"),
                                         ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz")])
def test_tar_members_are_hashed_like_the_files(tmp_path: Path, mode: str, suffix: str) -> None:
    pic = picture(tmp_path / "a.png")
    archive = tmp_path / f"ev{suffix}"
    with tarfile.open(archive, mode) as tar:
        tar.add(pic, "dir/a.png")
    rows = hashed([archive])
    member = rows[f"{archive}!dir/a.png"]
    assert member["sha256"] == hash_item(iter_media([pic]).__next__()).sha256
    assert member["pdq"] is not None and member["error"] is None
    assert rows[str(archive)]["sha256"] is not None, "the container is listed too"


def test_nested_archives_are_named_by_the_contract(tmp_path: Path) -> None:
    pic = picture(tmp_path / "a.png")
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.write(pic, "deep/a.png")
    seven = tmp_path / "mid.7z"
    with py7zr.SevenZipFile(seven, "w") as s:
        s.write(inner, "inner.zip")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.write(seven, "x/mid.7z")
    rows = hashed([outer], workers=2)
    name = f"{outer}!x/mid.7z!inner.zip!deep/a.png"
    assert rows[name]["pdq"] == hashed([pic])[str(pic)]["pdq"]


def test_nesting_deeper_than_the_limit_is_listed_not_opened(tmp_path: Path) -> None:
    current = picture(tmp_path / "a.png")
    for level in range(3):
        wrapper = tmp_path / f"level{level}.zip"
        with zipfile.ZipFile(wrapper, "w") as z:
            z.write(current, current.name)
        current = wrapper
    items = listed([current], IntakeLimits(max_depth=2))
    stopped = [i for i in items.values() if any("nesting depth" in f for f in i.flags)]
    assert [i.name for i in stopped] == [f"{current}!level1.zip!level0.zip"]
    assert not any(name.endswith("a.png") for name in items)


def test_single_compressed_file_is_one_member(tmp_path: Path) -> None:
    pic = picture(tmp_path / "a.png")
    packed = tmp_path / "a.png.gz"
    packed.write_bytes(gzip.compress(pic.read_bytes()))
    rows = hashed([packed])
    assert rows[f"{packed}!a.png"]["sha256"] == hashed([pic])[str(pic)]["sha256"]


def test_media_items_cross_process_boundaries(tmp_path: Path) -> None:
    import pickle

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(picture(tmp_path / "a.png"), "a.png")
    items = list(iter_media([archive]))
    assert [i.name for i in items] == [f"{archive}!a.png", str(archive)]
    for item in items:
        copy = pickle.loads(pickle.dumps(item))
        with copy.open() as stream, item.open() as original:
            assert stream.read() == original.read()
    with pickle.loads(pickle.dumps(items[0])).open() as member:
        assert member.read() == (tmp_path / "a.png").read_bytes()


# --- real types ------------------------------------------------------------------------------


def test_content_not_name_decides_and_mismatch_is_flagged(tmp_path: Path) -> None:
    hidden = tmp_path / "notes.txt"
    hidden.write_bytes(picture(tmp_path / "a.png").read_bytes())
    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(picture(tmp_path / "b.png", (1, 200, 1)).read_bytes())
    rows = hashed([hidden, fake])
    assert rows[str(hidden)]["pdq"] is not None
    assert rows[str(hidden)]["flags"] == ["extension mismatch: .txt but content is png"]
    assert rows[str(fake)]["flags"] == ["extension mismatch: .jpg but content is png"]


@pytest.mark.parametrize("fmt,suffix", [("AVIF", ".avif"), ("HEIF", ".heic"), ("WEBP", ".webp"),
                                        ("TIFF", ".tif"), ("BMP", ".bmp"), ("GIF", ".gif")])
def test_modern_and_classic_formats_get_pdq(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = tmp_path / f"pic{suffix}"
    image = Image.open(picture(tmp_path / "src.png", size=128)).convert("RGB")
    try:
        image.save(path, fmt)
    except (KeyError, OSError) as exc:
        pytest.skip(f"this Pillow cannot write {fmt}: {exc}")
    record = hashed([path])[str(path)]
    assert record["error"] is None and record["pdq"] is not None and record["flags"] == []


# --- hostile input ---------------------------------------------------------------------------


def test_zip_bomb_member_is_listed_not_expanded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.bin", b"\0" * (40 << 20))
        z.write(picture(tmp_path / "a.png"), "fine.png")
    rows = hashed([bomb])
    assert rows[f"{bomb}!zeros.bin"]["error"].startswith("zip bomb: expands")
    assert rows[f"{bomb}!zeros.bin"]["md5"] is None, "never read"
    assert rows[f"{bomb}!fine.png"]["pdq"] is not None


def test_archive_total_size_limit(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(4):
            z.writestr(f"f{i}.bin", bytes(range(256)) * 40)
    items = listed([archive], IntakeLimits(max_archive_bytes=25_000))
    errors = [items[f"{archive}!f{i}.bin"].error for i in range(4)]
    assert errors[:2] == [None, None]
    assert all(e and e.startswith("zip bomb: archive expands past") for e in errors[2:])


def test_gzip_bomb_is_cut_at_the_ratio_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "zeros.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (40 << 20), 9))
    limits = IntakeLimits(max_ratio=10, ratio_floor=1 << 20)
    records = {r.path: r for r in hash_items(iter_media([bomb], limits), 1)}
    assert records[f"{bomb}!zeros"].error.startswith("zip bomb")


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "huge.png"
    bomb.write_bytes(_png_header_only(30_000, 30_000))  # 900 MP claimed in 100 bytes
    record = hashed([bomb])[str(bomb)]
    assert record["error"].startswith("decompression bomb")
    assert record["sha256"] is not None
    small = hash_item(next(iter_media([picture(tmp_path / "a.png", size=200)])),
                      HashingLimits(max_pixels=10_000))
    assert small.error and small.error.startswith("decompression bomb"), "limit is configurable"


def test_traversal_and_absolute_member_names_are_flagged(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    data = picture(tmp_path / "a.png").read_bytes()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../etc/evil.png", data)
        z.writestr("/abs/evil.png", data)
    items = listed([archive])
    assert items[f"{archive}!../../etc/evil.png"].flags == ("unsafe member name: path traversal",)
    assert items[f"{archive}!/abs/evil.png"].flags == ("unsafe member name: absolute path",)
    assert not (tmp_path.parent / "etc").exists(), "nothing is extracted"


def test_symlink_loops_and_archive_links_are_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "loop").symlink_to(folder)
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("link.png")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    rows = hashed([folder, archive])
    assert rows[str(folder / "sub" / "loop")]["error"] == "symbolic link: not followed"
    assert rows[f"{archive}!link.png"]["error"].startswith("symbolic link")


def test_truncated_corrupt_empty_and_vanished_files(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    whole = io.BytesIO()
    Image.open(picture(tmp_path / "a.png", size=256)).convert("RGB").save(whole, "JPEG")
    (folder / "truncated.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    (folder / "empty.jpg").write_bytes(b"")
    good = zipfile.ZipFile(tmp_path / "x.zip", "w")
    good.writestr("a.txt", "x" * 1000)
    good.close()
    (folder / "cut.zip").write_bytes((tmp_path / "x.zip").read_bytes()[:60])
    vanishing = folder / "vanishing.png"
    picture(vanishing)
    items = list(iter_media([folder]))
    vanishing.unlink()  # listed, then gone before it is read: an unreadable file
    rows = {r.path: r.to_dict() for r in hash_items(items, 1)}
    assert rows[str(folder / "truncated.jpg")]["error"].startswith("undecodable image")
    assert rows[str(folder / "corrupt.png")]["error"].startswith("undecodable image")
    assert rows[str(folder / "empty.jpg")]["error"] == "empty file"
    assert rows[str(folder / "cut.zip")]["error"].startswith("corrupt archive")
    assert rows[str(folder / "cut.zip")]["sha256"] is not None
    assert rows[str(vanishing)]["error"].startswith("unreadable")


def test_special_files_are_not_opened(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    rows = hashed([tmp_path])
    assert rows[str(fifo)]["error"].startswith("not a regular file")


def _mark_encrypted(path: Path) -> None:
    """Set the 'encrypted' bit of every entry (local and central headers)."""
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            data[at + flag_at] |= 0x1
            start = at + 4
    path.write_bytes(bytes(data))


def test_encrypted_archives_are_listed_and_marked(tmp_path: Path) -> None:
    pic = picture(tmp_path / "a.png")
    locked_zip = tmp_path / "locked.zip"
    with zipfile.ZipFile(locked_zip, "w") as z:
        z.write(pic, "secret.png")
    _mark_encrypted(locked_zip)
    locked_7z = tmp_path / "locked.7z"
    with py7zr.SevenZipFile(locked_7z, "w", password="benign") as s:
        s.write(pic, "secret.png")
    rows = hashed([locked_zip, locked_7z])
    assert rows[f"{locked_zip}!secret.png"]["error"].startswith("encrypted")
    assert rows[f"{locked_7z}!secret.png"]["error"].startswith("encrypted")


@pytest.mark.parametrize("in_process", [False, True])
def test_a_hanging_item_is_killed_at_the_time_limit(tmp_path: Path, in_process: bool) -> None:
    pic = picture(tmp_path / "a.png")
    hang = MediaItem("hangs.png", 10, opener=partial(time.sleep, 60))  # type: ignore[arg-type]
    items = [next(iter_media([pic])), hang, next(iter_media([pic]))]
    started = time.monotonic()
    records = list(hash_items(items, 1, time_limit=1.0, in_process=in_process))
    assert time.monotonic() - started < 30
    assert [r.path for r in records] == [str(pic), "hangs.png", str(pic)]
    assert records[1].error.startswith("time limit")
    assert records[0].pdq and records[2].pdq, "the scan goes on after the kill"


def test_a_slow_decode_is_stopped_at_the_time_limit_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pic = picture(tmp_path / "a.png")
    monkeypatch.setattr("cvis.identify.hashpool.decode_item", lambda *a: time.sleep(60))
    started = time.monotonic()
    (record,) = hash_items(iter_media([pic]), 1, time_limit=1.0, in_process=True)
    assert time.monotonic() - started < 30
    assert record.error == "time limit: no result within 1 s"
    assert record.md5 and record.pdq is None, "the digests are kept"


def test_hashing_in_process_gives_the_pool_s_records(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    pic = picture(folder / "a.png", size=300)
    shutil.copy(pic, folder / "copy.png")
    Image.open(pic).convert("RGB").save(folder / "b.jpg", quality=80)
    Image.open(pic).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "c.webp")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    (folder / "notes.txt").write_text("not a picture")
    with zipfile.ZipFile(folder / "more.zip", "w") as z:
        z.write(pic, "inner/a.png")

    def records(in_process: bool) -> list[tuple[dict, list, dict]]:
        return [(r.to_dict(), r.pdq_variants, r.signals) for r in hash_items(
            iter_media([folder]), 1, HashingLimits(picture_signals=frozenset()),
            in_process=in_process)]

    here = records(True)
    assert here == records(False)
    assert len(here) == 8 and sum(bool(r[0]["pdq"]) for r in here) == 5  # the zip: a row too
    assert any(r[1] for r in here), "variants travel too"


def test_identical_files_are_decoded_once(tmp_path: Path) -> None:
    pic = picture(tmp_path / "a.png")
    for i in range(5):
        shutil.copy(pic, tmp_path / f"copy{i}.png")
    picture(tmp_path / "other.png", (1, 1, 1))
    pool = HashPool(PoolSettings(workers=2))
    try:
        records = list(pool.run(iter_media([tmp_path])))
    finally:
        pool.close()
    assert len(records) == 7 and len({r.path for r in records}) == 7
    assert pool.decodes == 2
    assert len({r.pdq for r in records}) == 2 and all(r.pdq for r in records)


def test_corrupted_member_data_is_reported_and_the_rest_hashed(tmp_path: Path) -> None:
    archive = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("text.txt", bytes(range(256)) * 200)
        z.write(picture(tmp_path / "a.png"), "fine.png")
    data = bytearray(archive.read_bytes())
    start = data.find(b"text.txt") + len(b"text.txt") + 10
    data[start:start + 40] = bytes(40)  # damage the deflate stream of the first member
    archive.write_bytes(bytes(data))
    rows = hashed([archive])
    assert rows[f"{archive}!text.txt"]["error"].startswith("unreadable")
    assert rows[f"{archive}!fine.png"]["pdq"] is not None


def test_a_crashing_decoder_costs_one_item(tmp_path: Path) -> None:
    import os

    pic = picture(tmp_path / "a.png")
    crash = MediaItem("crash.png", 10, opener=partial(os._exit, 3))  # type: ignore[arg-type]
    records = list(hash_items([crash, next(iter_media([pic]))], 1))
    assert records[0].error == "decoder crashed: worker process died (exit code 3)"
    assert records[1].pdq is not None


def test_a_crash_mid_batch_hands_the_rest_of_the_batch_on(tmp_path: Path) -> None:
    """Items a dead worker had taken (one digested and claimed, its copies waiting on it)
    are read again by its replacement; only the crashing item carries the crash."""
    import os

    first = next(iter_media([picture(tmp_path / "a.png")]))
    copies = [next(iter_media([shutil.copy(tmp_path / "a.png", tmp_path / f"c{i}.png")]))
              for i in range(3)]
    other = next(iter_media([picture(tmp_path / "b.png", (1, 1, 1))]))
    crash = MediaItem("crash.png", 10, opener=partial(os._exit, 3))  # type: ignore[arg-type]
    pool = HashPool(PoolSettings(workers=1))
    try:
        records = list(pool.run([first, crash, *copies, other]))
    finally:
        pool.close()
    assert [r.path for r in records] == [first.name, "crash.png", *(c.name for c in copies),
                                         other.name]
    assert records[1].error == "decoder crashed: worker process died (exit code 3)"
    assert all(r.pdq and r.error is None for r in records[:1] + records[2:])
    assert len({r.pdq for r in records[:1] + records[2:5]}) == 1
    assert pool.decodes == 2, "the claim the dead worker held was let go, then taken once"


def test_large_files_are_streamed_not_held(tmp_path: Path) -> None:
    import tracemalloc

    video = tmp_path / "big.mp4"
    with video.open("wb") as f:
        f.write(b"\x00\x00\x00\x18ftypisom" + bytes(12))
        f.truncate(96 << 20)  # a sparse 96 MB "video"
    tracemalloc.start()
    try:
        record = hash_item(next(iter_media([video])))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert record.size == 96 << 20 and record.sha256 and record.pdq is None
    assert peak < 8 << 20, f"peak {peak} bytes: the file was held in memory"


def test_duplicate_member_names_and_overlapping_paths_keep_names_unique(tmp_path: Path) -> None:
    archive = tmp_path / "ev" / "dupes.zip"
    archive.parent.mkdir()
    with pytest.warns(UserWarning), zipfile.ZipFile(archive, "w") as z:
        z.writestr("x.txt", "first")
        z.writestr("x.txt", "second")
    items = list(iter_media([tmp_path / "ev", archive]))  # the zip is reached twice
    names = [i.name for i in items]
    assert names == [f"{archive}!x.txt", f"{archive}!x.txt#2", str(archive)]
    assert items[1].flags == (f"duplicate name: another entry is also called {archive}!x.txt",)
    contents = {r.path: r.md5 for r in hash_items(items, 1)}
    assert len(set(contents.values())) == 3, "both members read, neither overwrites the other"


def test_tar_bomb_members_are_listed_not_expanded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    with tarfile.open(bomb, "w:gz") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 40 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    rows = hashed([bomb])
    assert rows[f"{bomb}!zeros.bin"]["error"].startswith("zip bomb: expands")
    assert rows[f"{bomb}!zeros.bin"]["md5"] is None


def test_7z_with_encrypted_names_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "names.7z"
    with py7zr.SevenZipFile(locked, "w", password="benign", header_encryption=True) as s:
        s.writestr(b"benign", "secret.txt")
    rows = hashed([locked])
    assert rows[str(locked)]["error"].startswith("encrypted")
    assert rows[str(locked)]["sha256"] is not None, "the archive itself is still hashed"
