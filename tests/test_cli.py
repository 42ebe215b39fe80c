"""The command-line contract of design.md: output shapes, errors and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cvis.cli.app import app
from cvis.config import Settings
from cvis.hashing import hash_item
from cvis.media.folders import file_item

# "flags" (issue 3): facts that do not stop hashing (deleted, extension mismatch, ...).
HASH_FIELDS = ["path", "size", "md5", "sha1", "sha256", "pdq", "pdq_quality", "error", "flags"]
MATCH_FIELDS = ["set", "media_id", "signal", "distance", "category", "series",
                "victim_identified"]


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def known_csv(pictures: dict[str, Path], path: Path) -> Path:
    rows = ["media_id,md5,sha1,sha256,pdq,category,series,victim_identified,contact"]
    for name in ("chelsea", "rocket"):
        r = hash_item(file_item(pictures[name]))
        rows.append(f"{name.upper()},{r.md5},{r.sha1},{r.sha256},{r.pdq},1,S-{name},true,desk")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_hash_prints_one_object_per_item(
    runner: CliRunner, cli_env: Settings, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    shutil.copy(sample_pictures["coffee"], folder / "a.png")
    (folder / "b.txt").write_text("x")
    result = runner.invoke(app, ["hash", str(folder), "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [list(r) for r in rows] == [HASH_FIELDS, HASH_FIELDS]
    assert rows[0]["pdq"] and len(rows[0]["pdq"]) == 64 and rows[1]["pdq"] is None


def test_import_scan_lookup_end_to_end(
    runner: CliRunner, cli_env: Settings, sample_pictures: dict[str, Path], tmp_path: Path
) -> None:
    csv_path = known_csv(sample_pictures, tmp_path / "known.csv")
    result = runner.invoke(app, ["sets", "import", str(csv_path), "--name", "national"])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output

    listing = runner.invoke(app, ["sets", "list"])
    assert listing.exit_code == 0 and "national" in listing.stdout

    evidence = tmp_path / "ev"
    evidence.mkdir()
    shutil.copy(sample_pictures["chelsea"], evidence / "cat.png")
    shutil.copy(sample_pictures["coffee"], evidence / "cup.png")
    out = tmp_path / "results.jsonl"
    scan = runner.invoke(app, ["scan", str(evidence), "--case", "C-1", "--sets", "national",
                               "--workers", "1", "--jsonl", str(out)])
    assert scan.exit_code == 0, scan.output
    rows = {Path(r["path"]).name: r for r in jsonl(out.read_text())}
    assert list(rows["cat.png"]) == [*HASH_FIELDS, "matches"]
    assert [list(m) for m in rows["cat.png"]["matches"]][0] == MATCH_FIELDS
    assert {m["media_id"] for m in rows["cat.png"]["matches"]} == {"CHELSEA"}
    assert rows["cup.png"]["matches"] == []
    assert "1 matched" in scan.output

    cat = rows["cat.png"]
    queries = tmp_path / "q.txt"
    queries.write_text(f"{cat['md5']}\n{cat['sha1'].upper()}\nnot-a-hash\n\n")
    looked = runner.invoke(app, ["lookup", str(queries)])
    assert looked.exit_code == 1, "a malformed line fails the command after reporting"
    answers = jsonl(looked.stdout)
    assert [a["signal"] for a in answers] == ["md5", "sha1", None]
    assert answers[0]["matches"][0]["media_id"] == "CHELSEA"
    assert "error" in answers[2]

    pdq = runner.invoke(app, ["lookup", "-", "--signal", "pdq"], input=cat["pdq"] + "\n")
    assert pdq.exit_code == 0, pdq.output
    assert jsonl(pdq.stdout)[0]["matches"][0]["distance"] == 0

    exported = runner.invoke(app, ["sets", "export", "national", "--format", "csv"])
    assert exported.exit_code == 0 and "S-chelsea" in exported.stdout and "desk" in exported.stdout


def test_errors_exit_one_with_a_clear_message(
    runner: CliRunner, cli_env: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("media_id,md5\nM1,nothex\n")
    result = runner.invoke(app, ["sets", "import", str(bad), "--name", "x"])
    assert result.exit_code == 1
    assert "line 2" in result.output and "nothing imported" in result.output

    # a set name that does not exist is an input error: exit 2 (issue 16's one rule)
    missing = runner.invoke(app, ["scan", str(tmp_path), "--case", "C", "--sets", "nope"])
    assert missing.exit_code == 2 and "no hash set named nope" in missing.output

    unknown = runner.invoke(app, ["sets", "export", "nope"])
    assert unknown.exit_code == 2 and "no hash set named 'nope'" in unknown.output


def test_usage_errors_exit_two(runner: CliRunner, cli_env: Settings) -> None:
    assert runner.invoke(app, ["scan"]).exit_code == 2
    assert runner.invoke(app, ["hash", "--no-such-flag", "x"]).exit_code == 2
