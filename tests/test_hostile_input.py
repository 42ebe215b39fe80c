"""Hostile input says what it is: lying extensions flagged, bombs named with their limit,
no library exception text in a result."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from cvis.hashing import hash_item
from cvis.media.folders import iter_media
from cvis.media.limits import IntakeLimits
from cvis.media.sniff import extension_mismatch, sniff
from tests.hashing_samples import encode, photo

INTERNAL = re.compile(r"Error\b|Exception|Traceback|\w+\(|already closed|errno", re.I)


def zipped(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def results(path: Path, limits: IntakeLimits | None = None) -> list[dict[str, object]]:
    return [hash_item(item).to_dict() for item in iter_media([path], limits)]


@pytest.mark.parametrize(("name", "content", "flag"), [
    ("notes.jpg", b"meeting at noon\nbring the files\n", ".jpg but content is text"),
    ("photo.png", bytes(range(1, 9)) * 64, ".png but content is unrecognised data"),
    ("holiday.txt", encode(photo(), "JPEG"), ".txt but content is jpeg"),
    ("clip.mp4", "résumé, naïve\n".encode(), ".mp4 but content is text"),
])
def test_content_that_is_not_what_its_name_says_is_flagged(
    tmp_path: Path, name: str, content: bytes, flag: str
) -> None:
    (tmp_path / name).write_bytes(content)
    [row] = results(tmp_path / name)
    assert row["flags"] == [f"extension mismatch: {flag}"]


def test_names_that_tell_the_truth_are_not_flagged(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("plain words\n")
    (tmp_path / "a.jpg").write_bytes(encode(photo(), "JPEG"))
    assert all(row["flags"] == [] for row in results(tmp_path))
    assert extension_mismatch("data.bin", sniff(b"\x00\x01binary")) is None


def test_nested_zip_bomb_is_reported_as_a_bomb_with_its_limit(tmp_path: Path) -> None:
    level = zipped([(f"zeros{i}.bin", bytes(1 << 20)) for i in range(4)])
    for depth in range(4):  # 6^4 * 4 MiB = 5 GiB from a 4 kB file, no member over 1 MiB
        level = zipped([(f"l{depth}_{i}.zip", level) for i in range(6)])
    (tmp_path / "nested.zip").write_bytes(level)
    rows = results(tmp_path / "nested.zip")
    errors = [str(r["error"]) for r in rows if r["error"]]
    assert errors
    assert all(e.startswith("zip bomb: nested archives expand past the ") for e in errors)
    assert f"{16 * 1024 * 1024}-byte limit (100:1 of the {len(level)}-byte file" in errors[0]
    assert sum(r["size"] or 0 for r in rows if r["md5"]) <= 2 * 16 * 1024 * 1024
    assert not [e for e in errors if INTERNAL.search(e)]


def test_deep_nesting_within_limits_is_read_to_the_bottom(tmp_path: Path) -> None:
    """Deeper than the container cache: every level stays open while its member is read."""
    picture = encode(photo("chelsea.png"), "JPEG")
    level = zipped([("deep.jpg", picture)])
    for depth in range(6):
        level = zipped([(f"level{depth}.zip", level), (f"note{depth}.txt", b"x")])
    (tmp_path / "deep.zip").write_bytes(level)
    rows = results(tmp_path / "deep.zip")
    leaf = [r for r in rows if str(r["path"]).endswith("deep.jpg")]
    assert len(leaf) == 1 and leaf[0]["error"] is None and leaf[0]["pdq"]
    assert not [r for r in rows if r["error"]]


def test_corrupt_inputs_say_so_without_library_text(tmp_path: Path) -> None:
    good = zipped([("a.jpg", encode(photo(), "JPEG")), ("b.jpg", encode(photo(), "JPEG"))])
    (tmp_path / "cut.zip").write_bytes(good[: len(good) // 2])
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (tmp_path / "garbage.zip").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    rows = results(tmp_path)
    errors = [str(r["error"]) for r in rows if r["error"]]
    assert len(errors) >= 3
    assert not [e for e in errors if INTERNAL.search(e)], errors
