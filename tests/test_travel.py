"""`cvis travel screen`: PAXLST, CSV and JSON manifests screened against the registry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cvis.cli.app import app
from cvis.config import Settings
from cvis.foreign.manifest import ManifestError, read_manifest
from cvis.foreign.models import Screening
from cvis.foreign.screening import ScreeningSetup, screen
from cvis.store.db import Store
from tests.fusion_helpers import COMMON, paxlst, traveller_from, write_manifest, write_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, Path]:
    """The registry file, its frame, and a models folder trained once for the module."""
    folder = tmp_path_factory.mktemp("registry")
    path, frame = write_registry(folder)
    models = folder / "models"
    manifest = read_manifest(write_manifest(folder / "m.csv", [
        traveller_from(frame.iloc[0])]).read_bytes())
    screen(ScreeningSetup(path, None, models), manifest)
    return path, frame, models


@pytest.fixture
def home(cli_env: Settings, registry: tuple[Path, object, Path]) -> Settings:
    shutil.copytree(registry[2], cli_env.home / "screening" / "models")
    return cli_env


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _screenings(settings: Settings) -> int:
    store = Store(settings)
    try:
        with store.session() as session:
            return session.scalar(select(func.count()).select_from(Screening)) or 0
    finally:
        store.dispose()


def test_csv_manifest_follows_the_contract(home: Settings, registry, tmp_path: Path,
                                           runner: CliRunner) -> None:
    path, frame, _ = registry
    namesake = {**COMMON, "dob": "1988-09-30"}
    manifest = write_manifest(tmp_path / "m.csv", [
        traveller_from(frame.iloc[3]),
        traveller_from(namesake, departure="2026-12-20T16:00:00+01:00", destination="FR"),
    ])
    result = runner.invoke(app, ["travel", "screen", str(manifest), "--registry", str(path)])
    assert result.exit_code == 0, result.output
    rows = _lines(result.stdout)
    assert [set(r) for r in rows] == [{"traveller", "departure_at", "destination",
                                       "candidates"}] * 2
    found, namesake_row = rows
    assert found["candidates"][0]["registry_id"] == frame.iloc[3]["id"]
    assert set(found["candidates"][0]) == {"registry_id", "match_probability"}
    assert found["candidates"][0]["match_probability"] >= 0.5
    assert found["traveller"]["family_name"] == frame.iloc[3]["family_name"]
    assert found["departure_at"] == "2026-12-20T09:15:00-05:00"
    # only the common name is shared with registrant R9000001: not proposed
    assert namesake_row["candidates"] == []
    assert namesake_row["destination"] == "FR"
    assert _screenings(home) == 1


def test_the_namesake_is_refused_even_at_a_low_threshold(registry, tmp_path: Path) -> None:
    path, _, models = registry
    manifest = read_manifest(write_manifest(tmp_path / "m.csv", [
        {**COMMON, "dob": "1990-01-02", "departure_at": "2026-12-20T10:00:00Z",
         "destination": "GB"}]).read_bytes())
    shutil.copytree(models, tmp_path / "models")
    [result] = screen(ScreeningSetup(path, None, tmp_path / "models", threshold=0.01), manifest)
    assert result.candidates == []
    exact = read_manifest(write_manifest(tmp_path / "e.csv", [
        {**COMMON, "departure_at": "2026-12-20T10:00:00Z", "destination": "GB"}]).read_bytes())
    [same] = screen(ScreeningSetup(path, None, tmp_path / "models"), exact)
    assert [c.registry_id for c in same.candidates] == ["R9000001"]


def test_paxlst_manifest_takes_the_departure_airports_zone(home: Settings, registry,
                                                           tmp_path: Path,
                                                           runner: CliRunner) -> None:
    path, frame, _ = registry
    person = traveller_from(frame.iloc[4])
    edi = tmp_path / "flight.edi"
    edi.write_text(paxlst([person]), encoding="utf-8")
    result = runner.invoke(app, ["travel", "screen", str(edi), "--registry", str(path),
                                 "--jsonl", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    [row] = _lines((tmp_path / "out.jsonl").read_text())
    assert row["departure_at"] == "2026-12-20T14:30:00-05:00"  # JFK local time, EST
    assert row["destination"] == "GB"
    assert row["traveller"]["family_name"] == person["family_name"]
    assert row["candidates"][0]["registry_id"] == frame.iloc[4]["id"]


def test_json_manifest(home: Settings, registry, tmp_path: Path, runner: CliRunner) -> None:
    path, frame, _ = registry
    doc = tmp_path / "m.json"
    doc.write_text(json.dumps({"travellers": [traveller_from(frame.iloc[6])]}))
    result = runner.invoke(app, ["travel", "screen", str(doc), "--registry", str(path),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = _lines(result.stdout)
    assert row["candidates"][0]["registry_id"] == frame.iloc[6]["id"]


def test_malformed_csv_is_refused_whole_naming_the_line(home: Settings, registry,
                                                        tmp_path: Path,
                                                        runner: CliRunner) -> None:
    path, frame, _ = registry
    manifest = write_manifest(tmp_path / "m.csv", [
        traveller_from(frame.iloc[1]),
        traveller_from(frame.iloc[2], departure="next tuesday"),
    ])
    result = runner.invoke(app, ["travel", "screen", str(manifest), "--registry", str(path)])
    assert result.exit_code == 2
    assert "line 3" in result.output
    assert _lines(result.stdout) == []
    assert _screenings(home) == 0


def test_malformed_paxlst_names_the_segment_and_line(registry, tmp_path: Path) -> None:
    _, frame, _ = registry
    text = paxlst([traveller_from(frame.iloc[1])]).replace("DTM+189:2612201430:201",
                                                         "DTM+189:26XX201430:201")
    with pytest.raises(ManifestError) as caught:
        read_manifest(text.encode())
    assert caught.value.where == "segment 8 (DTM), line 8"


def test_duplicates_are_recognised_and_times_keep_their_zones(tmp_path: Path) -> None:
    row = {**COMMON, "passport_number": "X1", "departure_at": "2026-12-20T10:00:00 Asia/Tokyo",
           "destination": "JP"}
    manifest = read_manifest(write_manifest(tmp_path / "m.csv", [row, row]).read_bytes())
    assert len(manifest.travellers) == 1 and manifest.duplicates == ["line 3"]
    assert manifest.travellers[0].departure_at.utcoffset().total_seconds() == 9 * 3600


def test_review_commands_from_screening_to_a_drafted_notice(home: Settings, registry,
                                                            tmp_path: Path,
                                                            runner: CliRunner) -> None:
    path, frame, _ = registry
    manifest = write_manifest(tmp_path / "m.csv", [traveller_from(frame.iloc[8])])
    assert runner.invoke(app, ["travel", "screen", str(manifest), "--registry",
                               str(path)]).exit_code == 0
    shown = runner.invoke(app, ["travel", "show", "1"])
    [row] = _lines(shown.stdout)
    candidate = row["candidates"][0]
    assert candidate["registry_id"] == frame.iloc[8]["id"] and "dob" in candidate["agreement"]
    refused = runner.invoke(app, ["travel", "determine", str(row["traveller_id"]),
                                  candidate["registry_id"], "--covered", "--basis", "agree"])
    assert refused.exit_code == 1  # covered, but neither notified nor a reason given
    done = runner.invoke(app, ["travel", "determine", str(row["traveller_id"]),
                               candidate["registry_id"], "--covered", "--basis",
                               "name and date of birth agree", "--notify"])
    assert done.exit_code == 0, done.output
    drafted = runner.invoke(app, ["notice", "draft", "--determination", "1"])
    assert drafted.exit_code == 0 and "notice 1 drafted" in drafted.output
    assert runner.invoke(app, ["notice", "confirm", "1"]).exit_code == 0
    assert runner.invoke(app, ["travel", "show", "99"]).exit_code == 1


def test_a_registry_of_a_few_people_still_scores_sensibly(cli_env: Settings, tmp_path: Path,
                                                          runner: CliRunner) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("id,given_names,family_name,dob,sex\nR1,John,Smith,1971-03-14,M\n"
                        "R2,Maria,Garcia,1980-01-02,F\nR3,Wei,Zhang,1965-07-08,M\n")
    manifest = write_manifest(tmp_path / "m.csv", [
        {"given_names": "John", "family_name": "Smith", "dob": "1985-05-05", "sex": "M",
         "departure_at": "2026-12-05T10:00:00Z", "destination": "GB"},
        {"given_names": "Maria", "family_name": "Garcia", "dob": "1980-01-02", "sex": "F",
         "departure_at": "2026-12-05T10:00:00+01:00", "destination": "MX"}])
    result = runner.invoke(app, ["travel", "screen", str(manifest), "--registry",
                                 str(registry)])
    assert result.exit_code == 0, result.output
    smith, garcia = _lines(result.stdout)
    assert smith["candidates"] == []
    assert [c["registry_id"] for c in garcia["candidates"]] == ["R2"]
    assert garcia["candidates"][0]["match_probability"] > 0.9


def test_nationality_document_and_birth_date_tell_a_namesake_from_the_registrant(
        registry, tmp_path: Path) -> None:
    """Only the common name in common: not proposed. The same person under a transliterated
    name (the same passport, or the same birth date and nationality): proposed."""
    import pandas as pd

    path, _, models = registry
    reg = pd.read_csv(path, dtype=str)
    reg["nationality"], reg["passport_number"] = None, None
    reg.loc[reg["id"] == COMMON["id"], ["nationality", "passport_number"]] = ["US", "X1234567"]
    egypt = {"id": "R9000002", "given_names": "Mohammed", "family_name": "Abdelrahman",
             "dob": "1969-07-02", "sex": "M", "state": "TX", "nationality": "EG",
             "passport_number": "A12345678"}
    registry_path = tmp_path / "registry.csv"
    pd.concat([reg, pd.DataFrame([egypt])], ignore_index=True).to_csv(registry_path,
                                                                       index=False)
    smith = {k: COMMON[k] for k in ("given_names", "family_name", "sex")}
    trip = {"departure_at": "2026-12-20T10:00:00Z", "destination": "GB"}
    rows = [
        {**smith, "dob": COMMON["dob"], "nationality": "GBR", "passport_number": "P1", **trip},
        {**smith, "nationality": "CAN", **trip},
        {**smith, "nationality": "USA", "passport_number": "Q7654321", **trip},
        {**smith, "dob": COMMON["dob"], "nationality": "USA", "passport_number": "X1234567",
         **trip},
        {"given_names": "Mohamed", "family_name": "Abd El Rahman", "dob": "1969-07-02",
         "sex": "M", "nationality": "EGY", "passport_number": "A12345678", **trip},
        {"given_names": "Muhammad", "family_name": "Abdel-Rahman", "dob": "1969-07-02",
         "sex": "M", "nationality": "Egypt", **trip},
    ]
    edi = paxlst([{**r, "dob": r.get("dob") or "", "passport_number":
                   r.get("passport_number", "")} for r in rows[3:5]])
    shutil.copytree(models, tmp_path / "models")
    setup = ScreeningSetup(registry_path, None, tmp_path / "models")
    found = screen(setup, read_manifest(write_manifest(tmp_path / "m.csv", rows).read_bytes()))
    assert [[c.registry_id for c in r.candidates] for r in found] == [
        [], [], [], [COMMON["id"]], ["R9000002"], ["R9000002"]]
    assert "document: same number" in found[4].candidates[0].agreement
    from_paxlst = screen(setup, read_manifest(edi.encode()))  # NAT+2+USA, DOC+P+...
    assert [[c.registry_id for c in r.candidates] for r in from_paxlst] == [
        [COMMON["id"]], []]  # the Egyptian passport holder is not a US national: refused
