"""Issue 16: casework a prosecutor can rely on. One test (at least) per numbered problem."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cvis.cases.case_export import export_case
from cvis.cases.models import ScanLease
from cvis.cases.report import build_report
from cvis.cases.review import (
    NotInCase,
    ReviewError,
    categorise_item,
    decide_match,
    review_queue,
    undo_item,
    undo_match,
)
from cvis.cases.scanning import run_scan
from cvis.cases.series import build_candidate_series
from cvis.cases.service import new_case, show_case
from cvis.cli.app import app
from cvis.config import Settings
from cvis.hashing import hash_item
from cvis.hashsets.series import SeriesRecord, save_series
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.media.folders import file_item
from cvis.store.db import Store
from cvis.store.models import HashSet, Scan, Suppression
from tests.test_cases import EXAMINER, evidence_folder, known_set


@pytest.fixture
def scanned(store: Store, sample_pictures: dict[str, Path], tmp_path: Path) -> Store:
    """Case A-1 (Agency A) scanned against `national`; case B-1 (Agency B) opened."""
    with store.session() as session:
        import_file(session, known_set(sample_pictures, tmp_path / "k.csv"), name="national")
        new_case(session, "A-1", actor=EXAMINER, agency="Agency A", title="Laptop")
        new_case(session, "B-1", actor="examiner.two", agency="Agency B")
    run_scan(store, ScanRequest("A-1", [evidence_folder(sample_pictures, tmp_path / "ev")],
                                workers=1))
    return store


def _matches(store: Store, case: str, name: str) -> list[int]:
    with store.session() as session:
        entry = next(e for e in review_queue(session, case, include_decided=True)
                     if Path(e.path).name == name)
        return [m.match_id for m in entry.matches]


def _events(store: Store, case_number: str) -> list[str]:
    with store.session() as session:
        return [e["action"] for e in show_case(session, case_number).events]


# 1. A reject never changes a set; every decision can be undone, leaving history.


def test_a_reject_never_suppresses_a_hash_for_other_cases(
    scanned: Store, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    with scanned.session() as session:
        for match_id in _matches(scanned, "A-1", "cat.png"):
            decide_match(session, match_id, "rejected", reviewer=EXAMINER, note="no", case="A-1")
    with scanned.session() as session:
        assert session.scalar(select(func.count()).select_from(Suppression)) == 0
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(sample_pictures["chelsea"], other / "exact-copy.png")
    scan_id = run_scan(scanned, ScanRequest("B-1", [other], workers=1))
    with scanned.session() as session:
        row = next(iter_scan_results(session, scan_id))
    assert {m["signal"] for m in row["matches"]} >= {"md5"}, "B-1 still matches the known md5"


def test_every_decision_can_be_undone_leaving_history(scanned: Store) -> None:
    cat = _matches(scanned, "A-1", "cat.png")
    with scanned.session() as session:
        decide_match(session, cat[0], "confirmed", reviewer=EXAMINER, case="A-1")
        decide_match(session, cat[0], "rejected", reviewer="examiner.two", case="A-1")
        previous = undo_match(session, cat[0], reviewer="examiner.two", note="misclick", case="A-1")
        assert previous is not None and previous["verdict"] == "rejected"
        with pytest.raises(ReviewError, match="no decision"):
            undo_match(session, cat[0], reviewer=EXAMINER, case="A-1")
        item = next(e for e in review_queue(session, "A-1", unmatched=True))
        categorise_item(session, item.item_id, reviewer=EXAMINER, category=1, case="A-1")
        undo_item(session, item.item_id, reviewer=EXAMINER, case="A-1")
        assert next(e for e in review_queue(session, "A-1", unmatched=True)
                    if e.item_id == item.item_id).category is None
        pending = [e for e in review_queue(session, "A-1") if Path(e.path).name == "cat.png"]
        assert pending and all(m.verdict is None for m in pending[0].matches)
        events = show_case(session, "A-1").events
    actions = [e["action"] for e in events]
    for action in ("match confirmed", "match rejected", "match decision undone",
                   "item categorised", "item categorisation undone"):
        assert action in actions
    undone = next(e for e in events if e["action"] == "match decision undone")
    assert undone["actor"] == "examiner.two" and undone["detail"]["previous"]["verdict"] == (
        "rejected")


def test_undo_from_the_command_line(scanned: Store, runner: CliRunner, cli_env: Settings) -> None:
    match_id = _matches(scanned, "A-1", "cat.png")[0]
    ok = runner.invoke(app, ["review", "A-1", "--match", str(match_id), "--reject"])
    assert ok.exit_code == 0 and f"{match_id}" in ok.output and "rejected" in ok.output
    undone = runner.invoke(app, ["review", "A-1", "--match", str(match_id), "--undo"])
    assert undone.exit_code == 0, undone.output
    assert runner.invoke(app, ["review", "A-1", "--undo"]).exit_code == 2, "undo what?"
    assert runner.invoke(app, ["review", "A-1", "--item", "1"]).exit_code == 2, "do what?"
    with scanned.session() as session:
        assert session.scalar(select(func.count()).select_from(Suppression)) == 0


# 2. Every command checks what it is told.


def test_review_match_must_belong_to_the_named_case(
    scanned: Store, runner: CliRunner, cli_env: Settings
) -> None:
    cat = _matches(scanned, "A-1", "cat.png")
    wrong = runner.invoke(app, ["review", "B-1", "--match", str(cat[0]), "--confirm"])
    assert wrong.exit_code == 2 and "case B-1 has no match" in wrong.output
    missing = runner.invoke(app, ["review", "NO-SUCH", "--match", str(cat[0]), "--confirm"])
    assert missing.exit_code == 2 and "no case" in missing.output
    with scanned.session() as session:
        with pytest.raises(NotInCase):
            decide_match(session, cat[0], "confirmed", reviewer=EXAMINER, case="B-1")
        entry = next(e for e in review_queue(session, "A-1") if Path(e.path).name == "cat.png")
        assert all(m.verdict is None for m in entry.matches), "nothing was decided"


def test_repeated_match_options_all_apply_or_none(
    scanned: Store, runner: CliRunner, cli_env: Settings
) -> None:
    cat = _matches(scanned, "A-1", "cat.png")
    assert len(cat) >= 2
    mixed = runner.invoke(app, ["review", "A-1", "--match", str(cat[0]), "--match", "999999",
                                "--confirm"])
    assert mixed.exit_code == 2
    both = runner.invoke(app, ["review", "A-1", "--match", str(cat[0]), "--match", str(cat[1]),
                               "--confirm"])
    assert both.exit_code == 0, both.output
    with scanned.session() as session:
        entry = next(e for e in review_queue(session, "A-1", include_decided=True)
                     if Path(e.path).name == "cat.png")
        assert {m.match_id: m.verdict for m in entry.matches} == {
            cat[0]: "confirmed", cat[1]: "confirmed"}
    clash = runner.invoke(app, ["review", "A-1", "--match", str(cat[0]), "--confirm", "--reject"])
    assert clash.exit_code == 2
    twice = runner.invoke(app, ["review", "A-1", "--item", "1", "--category", "1",
                                "--category", "2"])
    assert twice.exit_code == 2 and "--category given more than once" in twice.output


def test_sets_configure_checks_names_signals_and_ranges(
    cli_env: Settings, runner: CliRunner, store: Store, tmp_path: Path
) -> None:
    listing = tmp_path / "k.csv"
    listing.write_text("media_id,md5\nK1," + "a" * 32 + "\n")
    assert runner.invoke(app, ["sets", "import", str(listing), "--name", "national"]).exit_code == 0
    typo = runner.invoke(app, ["sets", "configure", "nationl", "--threshold", "pdq=24"])
    assert typo.exit_code == 2 and "no hash set named 'nationl'" in typo.output
    too_wide = runner.invoke(app, ["sets", "configure", "national", "--threshold", "pdq=256"])
    assert too_wide.exit_code == 2 and "0-63" in too_wide.output
    unknown = runner.invoke(app, ["sets", "configure", "national", "--threshold", "pdk=24"])
    assert unknown.exit_code == 2 and "did you mean 'pdq'" in unknown.output
    exact = runner.invoke(app, ["sets", "configure", "national", "--threshold", "md5=3"])
    assert exact.exit_code == 2
    with store.session() as session:
        assert session.scalars(select(HashSet.name)).all() == ["national"]
        assert session.scalars(select(HashSet.thresholds)).one() == {}
    assert runner.invoke(app, ["sets", "configure", "national", "--threshold", "pdq=24"]
                         ).exit_code == 0
    assert runner.invoke(app, ["sets", "configure", "national", "--threshold", "pdq=default"]
                         ).exit_code == 0
    with store.session() as session:
        assert session.scalars(select(HashSet.thresholds)).one() == {}


@pytest.mark.parametrize("column,meant", [("victim_identifed", "victim_identified"),
                                          ("categroy", "category")])
def test_misspelled_columns_are_refused_with_a_suggestion(
    cli_env: Settings, runner: CliRunner, store: Store, tmp_path: Path, column: str, meant: str
) -> None:
    listing = tmp_path / "k.csv"
    listing.write_text(f"media_id,md5,{column},identifying_agency\nK1,{'a' * 32},1,Unit\n")
    result = runner.invoke(app, ["sets", "import", str(listing), "--name", "national"])
    assert result.exit_code == 2
    assert f"did you mean '{meant}'" in result.output and "nothing imported" in result.output
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(HashSet)) == 0


# 3. Reports count files, not scan runs.


def test_rerun_of_a_finished_scan_adds_nothing_and_reports_count_files_once(
    scanned: Store, tmp_path: Path, runner: CliRunner, cli_env: Settings
) -> None:
    evidence = tmp_path / "ev"
    with scanned.session() as session:
        first = session.scalars(select(Scan.id)).one()
    assert run_scan(scanned, ScanRequest("A-1", [evidence], workers=1)) == first
    again = runner.invoke(app, ["scan", str(evidence), "--case", "A-1", "--workers", "1"])
    assert again.exit_code == 0 and "already finished; nothing added" in again.output
    with scanned.session() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 1
    # a deliberate second scan of the same files: still each file once in the report
    run_scan(scanned, ScanRequest("A-1", [evidence], workers=1, restart=True))
    with scanned.session() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 2
        for match_id in _matches(scanned, "A-1", "cat.png"):
            decide_match(session, match_id, "confirmed", reviewer=EXAMINER, case="A-1")
        report = build_report(session, "A-1")
        vics = io.StringIO()
        assert export_case(session, "A-1", "vics", vics) == 6, "the VICS export too"
    assert report["summary"]["files"] == 6 and len(report["files"]) == 6
    assert [Path(f["path"]).name for f in report["identified_files"]] == [
        "cat-copy.jpg", "cat.png"]
    assert report["summary"]["identified_victim_files"] == 2
    assert report["summary"]["matched_files"] == 3
    cat = report["identified_files"][1]
    assert len(cat["matches"]) == len({(m["set"], m["media_id"], m["method"])
                                       for m in cat["matches"]})
    assert cat["matches"][0]["verdict"] == "confirmed", "the latest decision on either copy"
    assert len(next(f for f in report["files"] if f["path"] == cat["path"])["scans"]) == 2


# 4. Series records reach scans and the report.


def test_series_records_reach_scan_results_and_the_report(
    store: Store, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    listing = tmp_path / "k.csv"
    with listing.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["media_id", "md5", "category", "series"])
        writer.writerow(["K-CAT", hash_item(file_item(sample_pictures["chelsea"])).md5, 1,
                         "Series S"])
    with store.session() as session:
        import_file(session, listing, name="national")
        save_series(session, SeriesRecord(
            name="Series S", victim_identified=True, identifying_agency="VID Unit North",
            contact_agency="North Police", contact_phone="+1 555 0199"))
    evidence = tmp_path / "ev"
    evidence.mkdir()
    shutil.copy(sample_pictures["chelsea"], evidence / "cat.png")
    scan_id = run_scan(store, ScanRequest("S-1", [evidence], workers=1))
    with store.session() as session:
        row = next(iter_scan_results(session, scan_id))
        report = build_report(session, "S-1")
    assert row["matches"][0]["victim_identified"] is True
    assert report["summary"]["identified_victim_files"] == 1
    match = report["identified_files"][0]["matches"][0]
    assert match["identifying_agency"] == "VID Unit North"
    assert match["contact"] == "North Police, +1 555 0199"


# 6. Custody output usable in court.


def test_evidence_list_gives_full_digests_and_paths(
    scanned: Store, runner: CliRunner, cli_env: Settings, tmp_path: Path
) -> None:
    listed = runner.invoke(app, ["evidence", "list", "--case", "A-1", "--json"])
    assert listed.exit_code == 0, listed.output
    record = json.loads(listed.stdout.splitlines()[0])
    assert record["kind"] == "folder" and record["source"] == str((tmp_path / "ev").resolve())
    assert len(record["sha256"]) == 64 and record["files"] == 6
    table = runner.invoke(app, ["evidence", "list", "--case", "A-1"])
    assert record["sha256"] in table.stdout and record["source"] in table.stdout
    assert "…" not in table.stdout
    for command in (["case", "list"], ["case", "show", "A-1"], ["sets", "list"],
                    ["sets", "versions", "national"], ["case", "series", "A-1"]):
        out = runner.invoke(app, [*command, "--json"])
        assert out.exit_code == 0, (command, out.output)
        assert all(json.loads(line) is not None for line in out.stdout.splitlines()), command


def test_folder_verification_recomputes_the_manifest(
    scanned: Store, runner: CliRunner, cli_env: Settings, tmp_path: Path
) -> None:
    ok = runner.invoke(app, ["evidence", "verify", "--case", "A-1"])
    assert ok.exit_code == 0 and "unchanged" in ok.output and "None" not in ok.output
    (tmp_path / "ev" / "planted.jpg").write_bytes(b"not evidence")
    changed = runner.invoke(app, ["evidence", "verify", "--case", "A-1"])
    assert changed.exit_code == 1
    assert "CHANGED" in changed.output and "added: planted.jpg" in changed.output
    (tmp_path / "ev" / "planted.jpg").unlink()
    (tmp_path / "ev" / "rocket.png").write_bytes(b"swapped")
    changed = runner.invoke(app, ["evidence", "verify", "--case", "A-1"])
    assert changed.exit_code == 1 and "changed: rocket.png" in changed.output


# 8. One console discipline.


def test_user_text_is_never_markup_and_the_interactive_review_talks_back(
    scanned: Store, runner: CliRunner, cli_env: Settings
) -> None:
    made = runner.invoke(app, ["case", "new", "M-1", "--title", "[red]seized[/red] [b]ox"])
    assert made.exit_code == 0
    shown = runner.invoke(app, ["case", "show", "M-1"])
    assert "[red]seized[/red] [b]ox" in shown.output
    session = runner.invoke(app, ["review", "A-1", "--examiner", EXAMINER], input="c\nq\n")
    assert session.exit_code == 0, session.output
    assert "[c]onfirm all matches, [r]eject all" in session.output
    assert "[q]uit" in session.output
    assert "confirmed match(es)" in session.output, "the decision is acknowledged"
    assert "reviewed 2 of 3 item(s)" in session.output and "confirmed" in session.output


def test_one_exit_code_rule(scanned: Store, runner: CliRunner, cli_env: Settings,
                            tmp_path: Path) -> None:
    listing = tmp_path / "k.csv"
    assert runner.invoke(app, ["sets", "import", str(listing), "--name", "n",
                               "--format", "vicss"]).exit_code == 2
    assert runner.invoke(app, ["report", "A-1", "--format", "docx", "--out",
                               str(tmp_path / "r.docx")]).exit_code == 2
    for command in (["report", "A-1", "--format", "json"],
                    ["sets", "export", "national"], ["case", "series", "A-1", "--export", "X"]):
        nowhere = runner.invoke(app, [*command, "--out", str(tmp_path / "missing" / "out.x")])
        assert nowhere.exit_code == 2, (command, nowhere.output)
        assert "does not exist" in nowhere.output and "Traceback" not in nowhere.output
        assert nowhere.exception is None or isinstance(nowhere.exception, SystemExit)


def test_unreachable_postgresql_is_one_line_without_the_password(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CVIS_HOME", str(tmp_path))
    monkeypatch.setenv("CVIS_DATABASE_URL",
                       "postgresql+psycopg://cvis:s3cret-pw@127.0.0.1:1/cvis")
    result = runner.invoke(app, ["case", "list"])
    assert result.exit_code == 1
    assert "s3cret-pw" not in result.output and "cannot use the database" in result.output
    assert len(result.output.strip().splitlines()) <= 2
    assert isinstance(result.exception, SystemExit)


def test_db_upgrade_never_prints_the_password(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, postgres_databases: object
) -> None:
    databases = postgres_databases
    name = databases.create()  # type: ignore[attr-defined]
    try:
        url = databases.url(name).replace("://postgres@", "://postgres:s3cret-pw@")  # type: ignore[attr-defined]
        monkeypatch.setenv("CVIS_HOME", str(tmp_path))
        monkeypatch.setenv("CVIS_DATABASE_URL", url)
        result = runner.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "s3cret-pw" not in result.output and "***" in result.output
    finally:
        databases.drop(name)  # type: ignore[attr-defined]


def test_version_and_flags_without_placeholders(runner: CliRunner) -> None:
    import cvis

    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.strip() == f"cvis {cvis.__version__}"
    for command in (["review", "--help"], ["scan", "--help"], ["sets", "import", "--help"]):
        shown = runner.invoke(app, command, terminal_width=200)
        assert shown.exit_code == 0 and "<bool>" not in shown.output, command


def test_case_reopen(scanned: Store, runner: CliRunner, cli_env: Settings) -> None:
    assert runner.invoke(app, ["case", "close", "A-1", "--reason", "charged"]).exit_code == 0
    match_id = _matches(scanned, "A-1", "cat.png")[0]
    closed = runner.invoke(app, ["review", "A-1", "--match", str(match_id), "--confirm"])
    assert closed.exit_code == 1 and "case reopen" in closed.output
    assert runner.invoke(app, ["case", "reopen", "A-1", "--reason", "appeal"]).exit_code == 0
    assert runner.invoke(app, ["case", "reopen", "A-1"]).exit_code == 1, "not closed"
    assert runner.invoke(app, ["review", "A-1", "--match", str(match_id), "--confirm"]
                         ).exit_code == 0
    assert _events(scanned, "A-1")[-2:] == ["reopened", "match confirmed"]


def test_listing_candidate_series_writes_no_history(scanned: Store) -> None:
    with scanned.session() as session:
        for entry in review_queue(session, "A-1", unmatched=True):
            categorise_item(session, entry.item_id, reviewer=EXAMINER, category=1, case="A-1")
        build_candidate_series(session, "A-1", actor=EXAMINER)
        build_candidate_series(session, "A-1", actor=EXAMINER)
    assert _events(scanned, "A-1").count("candidate series built") == 1


def test_killed_scans_are_shown_interrupted_and_resume(
    scanned: Store, tmp_path: Path
) -> None:
    with scanned.session() as session:
        case_id = session.scalar(select(Scan.case_id))
        orphan = Scan(case_id=case_id, paths=[str(tmp_path / "ev")], status="running")
        session.add(orphan)
        session.flush()
        child = subprocess.Popen(["true"])  # a process that has ended: the "killed" scan
        child.wait()
        session.add(ScanLease(scan_id=orphan.id, host=platform.node(), pid=child.pid))
        orphan_id = orphan.id
    with scanned.session() as session:
        statuses = {s["id"]: s["status"] for s in show_case(session, "A-1").scans}
    assert statuses[orphan_id] == "interrupted"
    assert "scan interrupted" in _events(scanned, "A-1")
    assert os.getpid() != child.pid
    resumed = run_scan(scanned, ScanRequest("A-1", [tmp_path / "ev"], workers=1))
    assert resumed == orphan_id, "an interrupted scan of the same paths is resumed"
    with scanned.session() as session:
        assert session.get_one(Scan, orphan_id).status == "completed"


def test_lookup_reports_a_header_line_as_a_header(
    scanned: Store, runner: CliRunner, cli_env: Settings, sample_pictures: dict[str, Path]
) -> None:
    md5 = hash_item(file_item(sample_pictures["chelsea"])).md5
    result = runner.invoke(app, ["lookup", "-"], input=f"md5\n{md5}\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in rows] == [md5] and rows[0]["matches"]
    assert "line 1 is a header" in result.output


def test_hash_api_answer_has_flags() -> None:
    from cvis.api.schemas.common import HashOut

    assert "flags" in HashOut.model_fields
