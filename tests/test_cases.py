"""Investigations end to end: scan, review, candidate series, deconfliction, the report."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image
from pypdf import PdfReader
from typer.testing import CliRunner

from cvis.cases.deconflict import deconflict_case
from cvis.cases.report import build_report
from cvis.cases.review import ReviewError, categorise_item, decide_match, review_queue
from cvis.cases.scanning import run_scan
from cvis.cases.series import build_candidate_series, export_candidate_series
from cvis.cases.service import CaseError, close_case, new_case, show_case
from cvis.cli.app import app
from cvis.config import Settings
from cvis.hashing import hash_item
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest
from cvis.media.folders import file_item
from cvis.store.db import Store

EXAMINER = "examiner.one"


def known_set(pictures: dict[str, Path], path: Path) -> Path:
    """chelsea: identified victim, series Cat; rocket: not identified."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["media_id", "md5", "pdq", "category", "series", "victim_identified",
                         "identifying_agency", "contact"])
        for media_id, name, identified in (("K-CAT", "chelsea", True), ("K-ROCKET", "rocket",
                                                                       False)):
            r = hash_item(file_item(pictures[name]))
            writer.writerow([media_id, r.md5, r.pdq, 1, f"Series {name}", identified,
                             "Demo VID Unit" if identified else "", "+1 555 0100"])
    return path


def evidence_folder(pictures: dict[str, Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(pictures["chelsea"], folder / "cat.png")
    Image.open(pictures["chelsea"]).convert("RGB").save(folder / "cat-copy.jpg", quality=70)
    shutil.copy(pictures["rocket"], folder / "rocket.png")
    coffee = Image.open(pictures["coffee"]).convert("RGB")
    coffee.save(folder / "new-a.png")
    coffee.resize((300, 200)).save(folder / "new-b.jpg", quality=80)
    shutil.copy(pictures["hubble_deep_field"], folder / "new-c.png")
    return folder


@pytest.fixture
def scanned(store: Store, sample_pictures: dict[str, Path], tmp_path: Path) -> Store:
    with store.session() as session:
        import_file(session, known_set(sample_pictures, tmp_path / "k.csv"), name="national")
        new_case(session, "A-1", actor=EXAMINER, agency="Agency A", contact="a@agency.test")
    run_scan(store, ScanRequest("A-1", [evidence_folder(sample_pictures, tmp_path / "ev")],
                                workers=1))
    return store


def test_review_confirm_and_report(scanned: Store, tmp_path: Path) -> None:
    with scanned.session() as session:
        queue = review_queue(session, "A-1")
        assert [Path(e.path).name for e in queue] == ["cat-copy.jpg", "cat.png", "rocket.png"]
        cat = queue[1]
        assert {(m.signal, m.distance) for m in cat.matches} == {("md5", 0), ("pdq", 0)}
        for m in cat.matches:
            decide_match(session, m.match_id, "confirmed", reviewer=EXAMINER)
        for m in queue[0].matches:
            decide_match(session, m.match_id, "rejected", reviewer=EXAMINER, note="not it")
    with scanned.session() as session:
        assert [Path(e.path).name for e in review_queue(session, "A-1")] == ["rocket.png"]
        report = build_report(session, "A-1")
    files = report["identified_files"]
    assert [Path(f["path"]).name for f in files] == ["cat.png"], "rejected and unidentified out"
    match = files[0]["matches"][0]
    assert match["identifying_agency"] == "Demo VID Unit" and match["contact"] == "+1 555 0100"
    assert match["verdict"] == "confirmed" and match["reviewer"] == EXAMINER
    assert report["summary"]["matches_rejected"] == 1
    assert report["summary"]["by_series"] == {"Series chelsea": 1}
    assert report["chain_of_custody"]["scans"][0]["items"] == 6


def test_report_is_deterministic_and_has_no_imagery(scanned: Store, tmp_path: Path) -> None:
    with scanned.session() as session:
        first = build_report(session, "A-1")
        second = build_report(session, "A-1")
    first.pop("generated_at"), second.pop("generated_at")
    assert first == second
    text = json.dumps(first)
    assert "base64" not in text and "PNG" not in text


def test_cli_workflow_to_pdf_json(
    scanned: Store, runner: CliRunner, cli_env: Settings, tmp_path: Path
) -> None:
    listed = runner.invoke(app, ["review", "A-1", "--list"])
    assert listed.exit_code == 0, listed.output
    queue = [json.loads(line) for line in listed.stdout.splitlines()]
    match_id = next(e for e in queue if e["path"].endswith("cat.png"))["matches"][0]["match_id"]
    decided = runner.invoke(app, ["review", "A-1", "--match", str(match_id), "--confirm",
                                  "--examiner", EXAMINER])
    assert decided.exit_code == 0, decided.output

    pdf = tmp_path / "report.pdf"
    made = runner.invoke(app, ["report", "A-1", "--format", "pdf", "--out", str(pdf)])
    assert made.exit_code == 0, made.output
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    for expected in ("Victim-Identification Report", "Case A-1", "Agency A", "cat.png",
                     "Demo VID Unit", "Chain of custody", "confirmed", "Series chelsea"):
        assert expected in text, expected
    assert "rocket.png" not in text, "the unidentified picture is not in the listing"
    page = pypdfium2.PdfDocument(str(pdf))[0].render(scale=1).to_pil()
    assert page.size[0] > 500 and np.asarray(page.convert("L")).std() > 5, "a rendered page"

    again = tmp_path / "again.pdf"
    runner.invoke(app, ["report", "A-1", "--format", "pdf", "--out", str(again)])
    assert len(PdfReader(again).pages) == len(PdfReader(pdf).pages)

    out = tmp_path / "report.json"
    assert runner.invoke(app, ["report", "A-1", "--format", "json", "--out", str(out)]
                         ).exit_code == 0
    assert json.loads(out.read_text())["summary"]["identified_victim_files"] == 2

    vics = tmp_path / "case.json"
    made = runner.invoke(app, ["report", "A-1", "--format", "vics", "--out", str(vics)])
    assert made.exit_code == 0, made.output
    exported = json.loads(vics.read_text())
    assert exported["odata.metadata"].endswith("DataModels/1.3.xml#Media")
    media = {Path(m["FilePath"]).name: m for m in exported["value"]}
    assert len(media) == 6, "every hashed item of the case"
    assert media["cat.png"]["VictimIdentified"] is True
    assert media["cat.png"]["Series"] == "Series chelsea" and media["cat.png"]["Category"] == 1
    assert len(media["cat.png"]["MD5"]) == 32
    assert media["rocket.png"]["VictimIdentified"] is False
    assert "VictimIdentified" not in media["new-c.png"], "unknown stays unknown"

    bad = runner.invoke(app, ["report", "A-1", "--format", "docx", "--out", str(out)])
    assert bad.exit_code == 2


def test_candidate_series_from_categorised_new_material(scanned: Store) -> None:
    with scanned.session() as session:
        unmatched = {Path(e.path).name: e for e in review_queue(session, "A-1", unmatched=True)}
        assert set(unmatched) == {"new-a.png", "new-b.jpg", "new-c.png"}
        for name in unmatched:
            categorise_item(session, unmatched[name].item_id, reviewer=EXAMINER, category=1,
                            tags=["new"])
        with pytest.raises(ReviewError, match="0-4"):
            categorise_item(session, unmatched["new-a.png"].item_id, reviewer=EXAMINER,
                            category=7)
        series = build_candidate_series(session, "A-1", actor=EXAMINER)
        sizes = sorted(len(s.item_ids) for s in series)
        assert sizes == [1, 2], "the two coffee pictures group; the sky stands alone"
        pair = next(s for s in series if len(s.item_ids) == 2)
        out = io.StringIO()
        assert export_candidate_series(session, "A-1", pair.label, "csv", out,
                                       actor=EXAMINER) == 2
    assert pair.label in out.getvalue() and out.getvalue().count("\n") == 3


def test_deconfliction_tells_both_agencies(
    scanned: Store, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    with scanned.session() as session:
        new_case(session, "B-7", actor="examiner.two", agency="Agency B",
                 contact="b@agency.test")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(sample_pictures["chelsea"], other / "IMG_1.png")
    run_scan(scanned, ScanRequest("B-7", [other], workers=1))
    with scanned.session() as session:
        a, b = show_case(session, "A-1"), show_case(session, "B-7")
        assert {(n["other_case"], n["basis"]) for n in a.notices} == {
            ("B-7", "series"), ("B-7", "hash")}
        assert {n["other_case"] for n in b.notices} == {"A-1"}
        assert b.notices[0]["contact"] == "a@agency.test"
        assert deconflict_case(session, "B-7", actor="x") == 0, "idempotent"


def test_same_agency_cases_are_not_deconflicted(
    scanned: Store, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    with scanned.session() as session:
        new_case(session, "A-2", actor=EXAMINER, agency="Agency A")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(sample_pictures["chelsea"], other / "IMG_1.png")
    run_scan(scanned, ScanRequest("A-2", [other], workers=1))
    with scanned.session() as session:
        assert show_case(session, "A-2").notices == []


def test_closed_cases_refuse_changes_and_history_is_kept(scanned: Store) -> None:
    with scanned.session() as session:
        match_id = review_queue(session, "A-1")[0].matches[0].match_id
        close_case(session, "A-1", actor=EXAMINER, reason="charged")
        with pytest.raises(ReviewError, match="closed"):
            decide_match(session, match_id, "confirmed", reviewer=EXAMINER)
        with pytest.raises(CaseError, match="already closed"):
            close_case(session, "A-1", actor=EXAMINER)
        actions = [e["action"] for e in show_case(session, "A-1").events]
    assert actions[0] == "opened" and actions[-1] == "closed"


def test_case_commands_are_audited(
    runner: CliRunner, cli_env: Settings, store: Store, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from cvis.store.models import AuditRecord

    assert runner.invoke(app, ["case", "new", "Z-9", "--agency", "Agency Z"]).exit_code == 0
    assert runner.invoke(app, ["case", "show", "Z-9"]).exit_code == 0
    missing = runner.invoke(app, ["case", "show", "NOPE"])
    assert missing.exit_code == 2, "an unknown case number is an input error"
    with store.session() as session:
        rows = session.execute(
            select(AuditRecord.event, AuditRecord.object, AuditRecord.outcome)
            .order_by(AuditRecord.id)
        ).all()
    assert ("case.new", "case:Z-9", "success") in rows
    assert ("case.show", "case:Z-9", "success") in rows
    assert ("case.show", "case:NOPE", "failure") in rows
