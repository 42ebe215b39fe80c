"""`cvis demo`: the whole job end to end on benign pictures shipped with scikit-image.

Builds a known set from sample photos (a cat, coffee, a rocket, ...), an evidence
folder of exact, resized, re-encoded and watermarked copies beside unrelated and
broken files, scans it and shows what was found. Nothing here depicts a person.
"""

from __future__ import annotations

import csv
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps
from skimage import data as sample_data
from sqlalchemy import select

from cvis.cases.scanning import run_scan
from cvis.cases.service import new_case
from cvis.cli import render
from cvis.hashing import hash_item
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest, iter_scan_results, summarize_scan
from cvis.media.folders import file_item
from cvis.store.db import Store
from cvis.store.models import Case

DEMO_SET = "demo-known"
DEMO_CASE = "DEMO-CASE"


@dataclass(frozen=True)
class KnownPicture:
    sample: str
    media_id: str
    category: int
    series: str
    victim_identified: bool


KNOWN = (
    KnownPicture("chelsea", "DEMO-0001", 1, "Demo Series Cat", True),
    KnownPicture("coffee", "DEMO-0002", 1, "Demo Series Cup", False),
    KnownPicture("rocket", "DEMO-0003", 2, "Demo Series Launch", True),
    KnownPicture("hubble_deep_field", "DEMO-0004", 1, "Demo Series Sky", False),
    KnownPicture("immunohistochemistry", "DEMO-0005", 2, "Demo Series Stain", True),
)
UNRELATED = ("grass", "gravel", "moon", "coins", "page", "brick")


def _sample(name: str) -> Image.Image:
    pixels = getattr(sample_data, name)()
    image = Image.fromarray(pixels)
    return image.convert("RGB") if image.mode not in ("RGB", "L") else image


def _watermark(image: Image.Image) -> Image.Image:
    marked = image.convert("RGB")
    draw = ImageDraw.Draw(marked)
    w, h = marked.size
    draw.rectangle((0, h - h // 20, w // 4, h), fill=(255, 255, 255))
    draw.text((4, h - h // 20 + 2), "shared-by-someone", fill=(0, 0, 0))
    return marked


def build_reference(folder: Path) -> Path:
    """Save the known pictures and write the known set's CSV from their cvis hashes."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder.parent / "known-set.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["media_id", "md5", "sha1", "sha256", "pdq", "category", "series",
                         "victim_identified", "identifying_agency"])
        for known in KNOWN:
            path = folder / f"{known.sample}.png"
            _sample(known.sample).save(path)
            record = hash_item(file_item(path))
            writer.writerow([known.media_id, record.md5, record.sha1, record.sha256, record.pdq,
                             known.category, known.series, known.victim_identified,
                             "Demo Agency VID Unit" if known.victim_identified else ""])
    return csv_path


def build_evidence(reference: Path, folder: Path) -> None:
    """Exact copies, altered (resized, re-encoded, watermarked, mirrored, letterboxed) copies,
    unrelated pictures and broken files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "DCIM").mkdir(exist_ok=True)
    (folder / "Downloads").mkdir(exist_ok=True)
    shutil.copy(reference / "chelsea.png", folder / "DCIM" / "IMG_0001.png")
    shutil.copy(reference / "rocket.png", folder / "Downloads" / "launch.png")
    for i, known in enumerate(KNOWN):
        image = Image.open(reference / f"{known.sample}.png").convert("RGB")
        half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
        half.save(folder / "DCIM" / f"IMG_{100 + i:04d}.jpg", quality=85)
        image.save(folder / "Downloads" / f"recompressed_{i}.jpg", quality=60)
        _watermark(image).save(folder / "Downloads" / f"shared_{i}.jpg", quality=90)
        ImageOps.mirror(image).save(folder / "Downloads" / f"mirrored_{i}.jpg", quality=90)
        ImageOps.expand(image, border=(0, image.height // 6), fill=(0, 0, 0)).save(
            folder / "Downloads" / f"letterboxed_{i}.jpg", quality=90
        )
    for name in UNRELATED:
        _sample(name).save(folder / "DCIM" / f"other_{name}.jpg", quality=90)
    original = (folder / "DCIM" / "IMG_0100.jpg").read_bytes()
    (folder / "Downloads" / "truncated.jpg").write_bytes(original[: len(original) // 3])
    (folder / "Downloads" / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("shopping list: milk, bread\n", encoding="utf-8")


def run_demo(workdir: Path | None = None, *, quiet: bool = False) -> int:
    """Returns the scan id; prints the summary and where the results went."""
    started = time.monotonic()
    store = Store()
    workdir = workdir or store.settings.home / "demo"
    if workdir.exists():
        shutil.rmtree(workdir)
    csv_path = build_reference(workdir / "reference")
    build_evidence(workdir / "reference", workdir / "evidence")
    render.note(f"built benign demo data in {workdir}")
    with store.session() as session:
        report = import_file(session, csv_path, name=DEMO_SET)
        if not session.scalar(select(Case.id).where(Case.number == DEMO_CASE)):
            new_case(session, DEMO_CASE, actor="demo", agency="Demo Agency",
                     title="Benign demonstration evidence", contact="demo@cvis.invalid")
    render.note(f"imported set {DEMO_SET!r}: version {report.version}, {report.added} added, "
                f"{report.updated} updated")
    request = ScanRequest(DEMO_CASE, [workdir / "evidence"], [DEMO_SET], restart=True)
    with render.progress_bar("scanning", None, render.show_progress(quiet)) as advance:
        scan_id = run_scan(store, request, advance)
    results = workdir / "results.jsonl"
    with store.session() as session, render.output_stream(results) as out:
        render.write_jsonl(iter_scan_results(session, scan_id), out)
        summary = summarize_scan(session, scan_id)
        render.demo_matches(iter_scan_results(session, scan_id))
    render.scan_summary(summary, results)
    run_programme_demo(store, workdir)
    render.note(f"demo finished in {time.monotonic() - started:.1f}s")
    render.note("review this case in the browser: cvis demo --serve (from a checkout: "
                ".venv/bin/cvis demo --serve); it prints the address and a demo sign-in")
    return scan_id


def run_programme_demo(store: Store, workdir: Path) -> None:
    """The rest of the programme on generated people (Faker) and drawn faces: two monthly
    registry cross-matches with targets and detainer drafts, tips, a screened flight, a
    notice and its correction, the annual report, and a most-wanted poster."""
    from cvis.fusion.demo import run_fusion_demo
    from cvis.policy.actors import local_operator
    from cvis.portal.demo import publish_demo_poster

    render.note("the programme: monthly registry cross-matching, targets, travel, notices")
    run_fusion_demo(workdir / "fusion", say=render.note, store=store)
    poster = publish_demo_poster(store, workdir / "poster",
                                 local_operator(purpose="cvis demo"))
    render.note(f"published a demo poster (a drawn face) {poster.poster_id}: "
                "see it with `cvis public serve`")
