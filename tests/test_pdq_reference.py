"""The reported PDQ is what Meta's reference computes, on Meta's own test pictures."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

from cvis.hashing import hash_item
from cvis.media.folders import file_item
from tests.hashing_samples import photo

DATA = Path(__file__).parent / "data" / "pdq_reference"
ROWS = list(csv.DictReader((DATA / "expected.csv").open()))
NEAR = 10  # the fast JPEG path's allowance against the reference
IMPLEMENTATIONS_APART = 16  # Meta's own implementations differ by up to 12 on these


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


ORIENTATION = 0x0112  # EXIF tag
GENERATED = ["RGBA.png"] + [f"exif-rotn-{n}.jpg" for n in (1, 3, 6, 8)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pictures of the kinds Meta's large test files are (kept out of the repository): an RGBA
    PNG whose alpha varies across the picture, and JPEGs stored with EXIF orientations."""
    folder = tmp_path_factory.mktemp("pdq-generated")
    picture = photo("coffee.png")
    rgba = picture.convert("RGBA")
    rgba.putalpha(picture.convert("L").point(lambda v: 64 + v // 2))
    rgba.save(folder / "RGBA.png")
    for n in (1, 3, 6, 8):
        exif = picture.getexif()
        exif[ORIENTATION] = n
        picture.save(folder / f"exif-rotn-{n}.jpg", quality=92, exif=exif.tobytes())
    return folder


@pytest.mark.parametrize("name", GENERATED)
def test_reported_pdq_is_the_references_on_generated_kinds(name: str, generated: Path) -> None:
    record = hash_item(file_item(generated / name))
    found, quality = pdq_from_file(generated / name)
    assert record.error is None and record.pdq is not None and quality > 0
    assert hamming(record.pdq, found) <= NEAR


def test_every_picture_is_listed() -> None:
    listed = {row["file"] for row in ROWS}
    present = {p.name for p in DATA.iterdir() if p.suffix not in (".csv", ".md")}
    assert listed == present and len(listed) >= 45


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_reported_pdq_is_the_references(row: dict[str, str]) -> None:
    record = hash_item(file_item(DATA / row["file"]))
    assert record.error is None
    assert record.pdq is not None and record.pdq_quality is not None
    if int(row["quality"]) == 0:
        assert record.pdq_quality <= 10  # the reference finds nothing to hash either
        return
    assert hamming(record.pdq, row["pdq"]) <= NEAR
    if row["published"]:
        assert hamming(record.pdq, row["published"]) <= IMPLEMENTATIONS_APART


@pytest.mark.parametrize("name", ["pytx-LA.png", "pytx-I16.png", "misc-images__modes__CMYK.jpg",
                                  "misc-images__modes__P.png",
                                  "generated:exif-rotn-6.jpg"])
def test_viewer_hash_is_kept_beside_it(name: str, generated: Path) -> None:
    """Where a viewer shows other pixels, their hash is looked up too, never instead."""
    where = generated / name.removeprefix("generated:") if name.startswith("generated:") \
        else DATA / name
    record = hash_item(file_item(where))
    viewer = [v for v in record.pdq_variants if v.kind == "viewer"]
    assert len(viewer) == 1 and hamming(viewer[0].hash, record.pdq or "") > NEAR


def test_expected_hashes_are_the_installed_references() -> None:
    """The recorded expectations are the reference's (a few files, to keep the test quick)."""
    for row in ROWS[:: max(1, len(ROWS) // 6)]:
        found, quality = pdq_from_file(DATA / row["file"])
        assert (found, quality) == (row["pdq"], int(row["quality"]))
