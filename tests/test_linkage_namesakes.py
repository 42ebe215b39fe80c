"""Namesakes: the commonest name with dates of birth 20 years apart is two people; the
same person under a transliterated name with day and month swapped is one. Synthetic
people only (the generator's name books)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cvis.cli.link import link_app
from cvis.linkage import synthetic


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private CVIS_HOME: the audit records of these runs go to a fresh store."""
    path = tmp_path_factory.mktemp("cvis-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CVIS_HOME", str(path))
        mp.delenv("CVIS_DATABASE_URL", raising=False)
        yield path


def _commonest(data: synthetic.HardData) -> tuple[str, str, str, str, str]:
    """The commonest (given, family) of the index, with its culture's written forms."""
    top = data.index.groupby(["FirstName", "LastName"]).size().idxmax()
    for culture, book in synthetic.name_books().items():
        given = {g[1]: g for g in book.male + book.female}
        family = {f[1]: f for f in book.family_male + book.family_female}
        if top[0] in given and top[1] in family:
            g, f = given[top[0]], family[top[1]]
            # another script or spelling of the same name: native script, else the
            # alternative romanisation (Somali orthography writes Maxamed for Mohamed)
            other_g = g[0] if g[0] != g[1] else g[2]
            other_f = f[0] if f[0] != f[1] else f[2]
            return top[0], top[1], other_g, other_f, culture
    raise AssertionError("commonest name not found in the name books")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, home: Path) -> dict[str, object]:
    base = tmp_path_factory.mktemp("namesakes")
    data = synthetic.generate_hard(1500, 12000, seed=29)
    given, family, other_given, other_family, culture = _commonest(data)
    assert (other_given, other_family) != (given, family)
    registry = pd.concat([data.registry, pd.DataFrame([
        {"id": "NS-OLD", "given_names": given, "family_name": family, "dob": "1960-03-05",
         "sex": "M", "state": "CA"},
        {"id": "NS-SAME", "given_names": given, "family_name": family, "dob": "1971-04-09",
         "sex": "M", "state": "TX"},
    ])], ignore_index=True)
    index = pd.concat([data.index, pd.DataFrame([
        # 20 years younger, same commonest name, same state: another person
        {"InmateNo": "NS-YOUNG", "FirstName": given, "LastName": family,
         "BirthDate": "03/05/1980", "Gender": "M", "StateCode": "CA"},
        # NS-SAME written in another script or spelling, born 9 April typed as 4 September
        {"InmateNo": "NS-TRANSLIT", "FirstName": other_given, "LastName": other_family,
         "BirthDate": "09/04/1971", "Gender": "M", "StateCode": "TX"},
    ])], ignore_index=True)
    registry.to_csv(base / "registry.csv", index=False)
    index.to_csv(base / "inmates.csv", index=False)
    (base / "inmates.toml").write_text(data.index_mapping, encoding="utf-8")
    result = CliRunner().invoke(link_app, [
        "run", "--registry", str(base / "registry.csv"),
        "--index", f"inmates={base / 'inmates.csv'}",
        "--mapping", f"inmates={base / 'inmates.toml'}",
        "--state", str(base / "state"), "--out", str(base / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    links = pd.read_csv(base / "out" / "links.csv", dtype=str)
    explained = [json.loads(line) for line in
                 (base / "out" / "links_explained.jsonl").read_text().splitlines()]
    return {"links": links, "explained": explained, "culture": culture, "dir": base,
            "name": (given, family), "other": (other_given, other_family)}


def _pairs(links: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(links.registry_id, links.record_id, strict=True))


def test_commonest_name_with_dates_of_birth_20_years_apart_is_not_linked(run: dict) -> None:
    links = run["links"]
    assert ("NS-OLD", "NS-YOUNG") not in _pairs(links)
    assert not (links.record_id == "NS-YOUNG").any()


def test_transliterated_name_with_day_and_month_swapped_is_linked(run: dict) -> None:
    assert ("NS-SAME", "NS-TRANSLIT") in _pairs(run["links"])
    line = next(e for e in run["explained"]
                if (e["registry_id"], e["record_id"]) == ("NS-SAME", "NS-TRANSLIT"))
    assert line["band"] == "link"
    how = {f["field"]: f["agreement"] for f in line["fields"]}
    assert how["dob"] == "day and month swapped"
    assert all(isinstance(f["weight"], float) for f in line["fields"])


def test_links_csv_keeps_its_columns_and_every_link_is_explained(run: dict) -> None:
    links = run["links"]
    assert list(links.columns) == [
        "registry_id", "index", "record_id", "match_probability", "match_weight"]
    explained = {(e["registry_id"], e["record_id"]) for e in run["explained"]
                 if e["band"] == "link"}
    assert explained == _pairs(links)
    band = pd.read_csv(Path(run["dir"]) / "out" / "review_band.csv", dtype=str)
    assert not _pairs(band) & _pairs(links)  # the review band is reported apart
    for row in band.itertuples():
        assert float(row.match_probability) < 0.5 or row.reason != "below the link threshold"


def test_each_registrant_links_to_few_identities(run: dict) -> None:
    per = run["links"].groupby("registry_id").size()
    assert per.max() <= 3, per.sort_values().tail()
