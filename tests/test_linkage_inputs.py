"""Linkage inputs checked before anything runs; the README's Parquet index with the docs'
mapping file; quiet Splink; review and releases refuse what they cannot do; the state is
owner-only and audited; each link names its owning field office. Synthetic people only."""

from __future__ import annotations

import json
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cvis.audit import AuditQuery, search_audit
from cvis.cli.link import link_app
from cvis.config import Settings
from cvis.linkage import calibration, feedback, synthetic
from cvis.linkage.review import link_key
from cvis.linkage.state import LinkageState
from cvis.offices.service import import_offices, read_offices
from cvis.store.db import Store

DOCS = Path(__file__).resolve().parents[1] / "docs" / "linkage.md"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("cvis-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CVIS_HOME", str(path))
        mp.delenv("CVIS_DATABASE_URL", raising=False)
        yield path


def docs_mapping() -> str:
    """The mapping file as docs/linkage.md shows it (so the docs stay true)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Mapping file format"):]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def _inputs(base: Path) -> tuple[Path, Path, Path]:
    data = synthetic.generate_hard(500, 3000, seed=41)
    registry = data.registry.copy()
    idx = data.index
    parquet = pd.DataFrame({
        "InmateNo": idx.InmateNo, "FirstName": idx.FirstName, "LastName": idx.LastName,
        "NameAsBooked": idx.NameAsBooked, "AKA": None,
        "BirthDate": pd.to_datetime(idx.BirthDate, format="%m/%d/%Y", errors="coerce").dt.date,
        "StreetNo": None, "Street": None, "SSN": idx.SSN, "state": idx.StateCode,
        "ProjectedRelease": idx.ProjectedRelease, "Facility": idx.Facility,
        "OwningOffice": "FO-FROM-RECORD"})
    registry.to_csv(base / "registry.csv", index=False)
    parquet.to_parquet(base / "inmates.parquet", index=False)
    (base / "inmates.toml").write_text(docs_mapping(), encoding="utf-8")
    return base / "registry.csv", base / "inmates.parquet", base / "inmates.toml"


def _args(reg: Path, idx: Path, mapping: Path, base: Path, *more: str) -> list[str]:
    return ["run", "--registry", str(reg), "--index", f"inmates={idx}",
            "--mapping", f"inmates={mapping}", "--state", str(base / "state"),
            "--out", str(base / "out"), *more]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory, home: Path) -> dict[str, object]:
    base = tmp_path_factory.mktemp("inputs")
    (base / "offices.csv").write_text(
        "office_id,name,email,states,counties\n"
        "FO-TX,Texas field office,tx@example.org,TX,\n"
        "FO-HARRIS,Harris County desk,harris@example.org,,TX:Harris\n"
        "FO-NAT,National desk,nat@example.org,*,\n", encoding="utf-8")
    with Store().session() as session:
        import_offices(session, read_offices(base / "offices.csv"))
    reg, idx, mapping = _inputs(base)
    return {"base": base, "reg": reg, "idx": idx, "mapping": mapping}


def test_readme_parquet_index_with_docs_mapping_runs_quietly(
        month: dict, capfd: pytest.CaptureFixture[str]) -> None:
    base = month["base"]
    result = CliRunner().invoke(link_app, _args(month["reg"], month["idx"], month["mapping"],
                                                base))
    assert result.exit_code == 0, result.output
    captured = capfd.readouterr()
    noise = (result.output + captured.out + captured.err).splitlines()
    assert len(noise) <= 6, noise  # Splink's own ~160 lines only with --verbose
    links = pd.read_csv(base / "out" / "links.csv", dtype=str)
    assert len(links) > 50
    explained = pd.read_json(base / "out" / "links_explained.jsonl", lines=True)
    linked = explained[explained.band == "link"]
    assert any(f["field"] == "dob" for f in linked.fields.iloc[0])  # dates were compared
    # the owning office comes from the area-of-responsibility table, by the record's state
    states = pd.read_parquet(month["idx"]).set_index("InmateNo")["state"]
    expect = states.reindex(linked.record_id.astype(str)).map(
        lambda s: "FO-TX" if s == "TX" else "FO-NAT").to_numpy()
    assert list(linked.office) == list(expect)


def test_verbose_shows_splink_output(month: dict, capfd: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    result = CliRunner().invoke(link_app, [*_args(month["reg"], month["idx"], month["mapping"],
                                                  tmp_path), "--verbose"])
    assert result.exit_code == 0, result.output
    captured = capfd.readouterr()
    assert len((result.output + captured.err + captured.out).splitlines()) > 20


def test_state_database_is_owner_only_and_every_access_is_audited(
        month: dict, cli_env: Settings, tmp_path: Path) -> None:
    """On each store backend: reading the review queue and recording a decision leave
    read and write records naming the state directory."""
    first = Path(month["base"]) / "state"
    if not first.exists():  # run alone, without the test that makes month one's run
        assert CliRunner().invoke(link_app, _args(month["reg"], month["idx"], month["mapping"],
                                                  month["base"], "--quiet")).exit_code == 0
    assert stat.S_IMODE((first / "linkage.duckdb").stat().st_mode) == 0o600
    assert stat.S_IMODE(first.stat().st_mode) == 0o700
    state = tmp_path / "state"  # a copy (modes kept): each backend decides on its own
    shutil.copytree(first, state)
    listing = CliRunner().invoke(link_app, ["review", "--state", str(state), "--json"])
    assert listing.exit_code == 0, listing.output
    key = json.loads(listing.output.splitlines()[0])["key"]
    decided = CliRunner().invoke(link_app, ["review", "--state", str(state), "--reject", key,
                                            "--note", "other person", "--reviewer", "qa"])
    assert decided.exit_code == 0, decided.output
    events = {r["event"]: r for r in search_audit(Store(cli_env), AuditQuery(limit=1000))}
    assert "decisions" in events["linkage.state.write"]["detail"]
    assert "links" in events["linkage.state.read"]["detail"]
    assert events["linkage.state.read"]["object"].endswith(str(state))
    assert events["linkage.state.write"]["object"].endswith(str(state))
    assert stat.S_IMODE((state / "linkage.duckdb").stat().st_mode) == 0o600


@pytest.mark.parametrize("renamed,needle", [
    ("date_of_birth", "'dob'"), ("birth_date", "'dob'"), ("surname", "'family_name'"),
    ("last", "no family name"),
])
def test_renamed_registry_columns_are_input_errors(month: dict, tmp_path: Path,
                                                   renamed: str, needle: str) -> None:
    registry = pd.read_csv(month["reg"], dtype=str)
    column = "dob" if "birth" in renamed else "family_name"
    registry.rename(columns={column: renamed}).to_csv(tmp_path / "r.csv", index=False)
    result = CliRunner().invoke(link_app, _args(tmp_path / "r.csv", month["idx"],
                                                month["mapping"], tmp_path))
    assert result.exit_code == 2, result.output
    assert needle in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()


def test_missing_date_of_birth_names_the_comparison_and_can_be_allowed(
        month: dict, tmp_path: Path) -> None:
    registry = pd.read_csv(month["reg"], dtype=str).drop(columns=["dob"])
    registry.to_csv(tmp_path / "r.csv", index=False)
    refused = CliRunner().invoke(link_app, _args(tmp_path / "r.csv", month["idx"],
                                                 month["mapping"], tmp_path))
    assert refused.exit_code == 2
    assert "date-of-birth comparison" in refused.output
    assert "--allow-missing dob" in refused.output


def test_mapping_naming_a_missing_column_suggests_the_right_one(month: dict,
                                                                tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(docs_mapping().replace('"LastName"', '"LastNme"'))
    result = CliRunner().invoke(link_app, _args(month["reg"], month["idx"], tmp_path / "m.toml",
                                                tmp_path))
    assert result.exit_code == 2
    assert "'LastName'" in result.output


def test_confirm_and_reject_of_one_link_is_refused(month: dict) -> None:
    state = str(Path(month["base"]) / "state")
    links = pd.read_csv(Path(month["base"]) / "out" / "links.csv", dtype=str)
    key = link_key(links.registry_id[0], "inmates", links.record_id[0])
    result = CliRunner().invoke(link_app, ["review", "--state", state, "--confirm", key,
                                           "--reject", key, "--note", "x"])
    assert result.exit_code == 2 and "conflicting" in result.output
    listing = CliRunner().invoke(link_app, ["review", "--state", state, "--all", "--json"])
    assert f'"key": "{key}", ' in listing.output and '"status": "pending"' in listing.output
    no_reason = CliRunner().invoke(link_app, ["review", "--state", state, "--reject", key])
    assert no_reason.exit_code == 2


def test_releases_with_an_unknown_index_is_a_usage_error(month: dict) -> None:
    state = str(Path(month["base"]) / "state")
    bad = CliRunner().invoke(link_app, ["releases", "--state", state, "--index", "inmtes"])
    assert bad.exit_code == 2 and "inmates" in bad.output
    good = CliRunner().invoke(link_app, ["releases", "--state", state, "--index", "inmates"])
    assert good.exit_code == 0


def test_interactive_review_confirms_rejects_with_reason_and_summarises(
        month: dict, tmp_path: Path) -> None:
    state = tmp_path / "state"
    shutil.copytree(Path(month["base"]) / "state", state)
    runner = CliRunner()
    result = runner.invoke(link_app, ["review", "--state", str(state), "--interactive",
                                      "--reviewer", "analyst [bold]1[/bold]"],
                           input="c\n\nr\nother date of birth\ns\nq\n")
    assert result.exit_code == 0, result.output
    assert "1 confirmed, 1 rejected, 1 skipped" in result.output
    assert "dob" in result.output and "[c]onfirm" in result.output  # evidence and hints shown
    decided = runner.invoke(link_app, ["review", "--state", str(state), "--all", "--json"])
    rows = [json.loads(line) for line in decided.output.splitlines()]
    assert sorted(r["status"] for r in rows[:2]) == ["confirmed", "rejected"]


def test_decisions_are_labels_when_retraining(tmp_path: Path, home: Path) -> None:
    base = calibration.shipped()
    with LinkageState(tmp_path / "state") as st:
        explanation = json.dumps({"match_weight": 3.0, "fields": [
            {"field": "dob", "agreement": "one typo", "weight": 5.0}]})
        for n in range(300):
            st.execute("INSERT INTO decisions (registry_id, index_name, record_id, decision, "
                       "explanation) VALUES (?, 'inmates', ?, 'confirm', ?)",
                       [f"R{n}", f"I{n}", explanation])
        updated = feedback.calibration_with_decisions(st, "inmates")
        other = feedback.calibration_with_decisions(st, "arrests")
    assert updated.m["dob"]["one typo"] > 3 * base.m["dob"]["one typo"]
    assert abs(sum(updated.m["dob"].values()) - 1) < 1e-9
    assert other == base and "300 review decisions" in updated.source
