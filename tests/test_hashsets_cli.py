"""`cvis sets ...`: thin commands over the services, clear errors, exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cvis.cli.app import app
from cvis.config import Settings
from tests.hashset_helpers import line, md5


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_versions_diff_export_show(cli_env: Settings, runner: CliRunner,
                                         tmp_path: Path) -> None:
    first = write(tmp_path / "a.jsonl", line("A", category=1), line("B"))
    second = write(tmp_path / "b.jsonl", line("A", category=2), line("B", deleted=True))
    result = runner.invoke(app, ["sets", "import", str(first), "--name", "nat",
                                 "--agency", "NCA", "--source", "national list"])
    assert result.exit_code == 0, result.output
    assert "version 1 (jsonl): 2 added" in result.output
    result = runner.invoke(app, ["sets", "import", str(second), "--name", "nat"])
    assert "1 updated, 1 removed" in result.output

    result = runner.invoke(app, ["sets", "versions", "nat"])
    assert result.exit_code == 0 and "jsonl" in result.output

    result = runner.invoke(app, ["sets", "diff", "nat", "1"])
    rows = [json.loads(text) for text in result.stdout.splitlines()]
    changes = {row["media_id"]: row["change"] for row in rows}
    assert changes == {"A": "update", "B": "delete"}

    out = tmp_path / "v1.txt"
    result = runner.invoke(app, ["sets", "export", "nat", "--format", "plain", "--version", "1",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().split() == [md5("A"), md5("B")]

    result = runner.invoke(app, ["sets", "show", "nat"])
    # created with --agency NCA: NCA's, private to it until shared (issue 14)
    assert "access: NCA" in result.output and "every agency" not in result.output


def test_bad_records_fail_with_line_numbers_or_are_skipped(cli_env: Settings, runner: CliRunner,
                                                          tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.txt", md5("a"), "xyz", md5("b"))
    result = runner.invoke(app, ["sets", "import", str(bad), "--name", "p", "--format", "plain"])
    assert result.exit_code == 1 and "line 2" in result.output
    result = runner.invoke(app, ["sets", "import", str(bad), "--name", "p", "--format", "plain",
                                 "--skip-bad"])
    assert result.exit_code == 0 and "2 added" in result.output
    assert "skipped line 2" in result.output


def test_unknown_things_are_clear_errors(cli_env: Settings, runner: CliRunner) -> None:
    # unknown names and ids are input errors: exit 2 (issue 16's one exit-code rule)
    assert runner.invoke(app, ["sets", "export", "nope"]).exit_code == 2
    result = runner.invoke(app, ["sets", "configure", "x", "--threshold", "pdq"])
    assert result.exit_code == 2 and "SIGNAL=DISTANCE" in result.output
    result = runner.invoke(app, ["sets", "feedback", "12345", "confirmed"])
    assert result.exit_code == 2 and "no match" in result.output
    result = runner.invoke(app, ["sets", "series", "S", "--contact-email", "bad"])
    assert result.exit_code == 2 and "email" in result.output


def test_configure_and_publish_then_pull(cli_env: Settings, runner: CliRunner,
                                         tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", line("A"))
    runner.invoke(app, ["sets", "import", str(tmp_path / "a.jsonl"), "--name", "nat"])
    result = runner.invoke(app, ["sets", "configure", "nat", "--threshold", "pdq=20",
                                 "--grant-metadata", "AFP", "--disabled"])
    assert result.exit_code == 0, result.output
    show = runner.invoke(app, ["sets", "show", "nat"]).output
    assert "'pdq': 20" in show and "access: AFP" in show
    assert runner.invoke(app, ["sets", "publish", "nat", str(tmp_path / "feed")]).exit_code == 0
    result = runner.invoke(app, ["sets", "pull", str(tmp_path / "feed"), "--name", "mirror"])
    assert result.exit_code == 0 and "feed version 1 (1 applied now)" in result.output
    assert "mirror" in runner.invoke(app, ["sets", "list"]).output


def test_every_sets_command_and_format_is_documented() -> None:
    from cvis.cli.sets import sets_app
    from cvis.hashsets.formats import FORMATS

    doc = (Path(__file__).parent.parent / "docs" / "hashsets.md").read_text(encoding="utf-8")
    commands = {c.name for c in sets_app.registered_commands}
    assert commands >= {"import", "export", "list", "show", "versions", "diff", "feedback",
                        "pull"}
    missing = [c for c in commands if f"cvis sets {c}" not in doc]
    missing += [f for f in FORMATS if f"| `{f}`" not in doc]
    assert not missing, f"undocumented in docs/hashsets.md: {missing}"


def test_a_set_made_on_the_command_line_is_its_creators_agencys(
    cli_env: Settings, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: sets created anywhere belong to the creator's agency (private until shared);
    a name with control characters is refused."""
    from cvis.hashsets.access import access_list
    from cvis.hashsets.service import get_set
    from cvis.store.db import Store

    listing = tmp_path / "list.csv"
    listing.write_text("media_id,md5\nM1," + "a" * 32 + "\n")
    monkeypatch.setenv("CVIS_AGENCY", "Agency A")
    made = runner.invoke(app, ["sets", "import", str(listing), "--name", "a-own"])
    assert made.exit_code == 0, made.output
    store = Store()
    with store.session() as session:
        hash_set = get_set(session, "a-own")
        assert hash_set.agency == "Agency A"
        assert [a.agency for a in access_list(session, hash_set)] == ["Agency A"]
    bad = runner.invoke(app, ["sets", "import", str(listing), "--name", "bad\u202ename"])
    assert bad.exit_code != 0 and "bidirectional" in bad.output
