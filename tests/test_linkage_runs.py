"""Monthly runs end to end on Faker people: name variants, review, releases, comparison.

One month-one run (module fixture) is shared by the tests; the second month runs
inside its own test. Every person here is synthetic (Faker).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from anyascii import anyascii
from faker import Faker
from pypdf import PdfReader
from typer.testing import CliRunner

from cvis.cli.link import link_app
from cvis.linkage import synthetic
from cvis.linkage.review import link_key
from cvis.linkage.service import leads, review_queue

AS_OF = "2040-01-01"


@dataclass
class Case:
    name: str
    registry: dict[str, str]
    index: dict[str, str]
    expect: str  # part of the agreement text the link must show


def _cases() -> list[Case]:
    fake, ru, ar = Faker("en_US"), Faker("ru_RU"), Faker("ar_AA")
    for f, s in ((fake, 1), (ru, 2), (ar, 3)):
        f.seed_instance(s)
    cases = []

    def add(name: str, reg: dict[str, str], idx: dict[str, str], expect: str) -> None:
        dob = fake.date_of_birth(minimum_age=25, maximum_age=70)
        reg = {"dob": dob.isoformat(), "sex": "M", **reg}
        idx = {"BirthDate": dob.strftime("%m/%d/%Y"), "Gender": "M", **idx}
        cases.append(Case(name, reg, idx, expect))

    fam = [fake.unique.last_name() for _ in range(8)]
    cyr = ru.last_name_male()
    add("transliteration", {"given_names": "Alexander", "family_name": anyascii(cyr)},
        {"NameAsBooked": f"Александр {cyr}"}, "given_name: variant or nickname")
    add("nickname", {"given_names": "William", "family_name": fam[0]},
        {"FirstName": "Bill", "LastName": fam[0]}, "given_name: variant or nickname")
    add("romanisation", {"given_names": "Muhammad", "family_name": fam[1]},
        {"FirstName": "Mohamed", "LastName": fam[1]}, "given_name: variant or nickname")
    arabic_family = ar.last_name()
    add("arabic script", {"given_names": "Mohammed", "family_name": anyascii(arabic_family)},
        {"NameAsBooked": f"محمد {arabic_family}"}, "given_name: same consonants")
    add("alias", {"given_names": "Dorian", "family_name": fam[2],
                  "aliases": f"Theo {fam[3]};T {fam[3]}"},
        {"FirstName": "Theo", "LastName": fam[3]}, "family_name: exact")
    add("swap", {"given_names": "Harold", "family_name": fam[4]},
        {"FirstName": fam[4], "LastName": "Harold"}, "name_order: given and family swapped")
    add("double surname", {"given_names": "Lucia", "family_name": f"{fam[5]} Villanueva",
                           "sex": "F"},
        {"FirstName": "Lucia", "LastName": fam[5], "Gender": "F"}, "family_name: double")
    cases[-1].registry["sex"] = "F"
    add("dob day/month", {"given_names": "Gerald", "family_name": fam[6],
                          "dob": "1984-03-07"},
        {"FirstName": "Gerald", "LastName": fam[6], "BirthDate": "07/03/1984"},
        "dob: day and month swapped")
    add("dob typo", {"given_names": "Reginald", "family_name": fam[7], "dob": "1975-06-21"},
        {"FirstName": "Reginald", "LastName": fam[7], "BirthDate": "06/24/1975"},
        "dob: one typo")
    return cases


RELEASES = {"transliteration": "2040-01-11", "nickname": "2040-02-10",
            "romanisation": "2040-01-05", "alias": "2040-07-20"}


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, str, list[Case], set[tuple[str, str]]]:
    data = synthetic.generate(registrants=1200, index_records=6000, seed=5)
    cases = _cases()
    reg_rows, idx_rows = [], []
    for n, case in enumerate(cases):
        reg_rows.append({"id": f"CASE-R{n}", **case.registry})
        idx_rows.append({"InmateNo": f"CASE-I{n}", "Facility": "Case Unit",
                         "ProjectedRelease": RELEASES.get(case.name, "2041-06-01"),
                         **case.index})
    registry = pd.concat([data.registry, pd.DataFrame(reg_rows)], ignore_index=True)
    index = pd.concat([data.index, pd.DataFrame(idx_rows)], ignore_index=True)
    return registry, index, data.index_mapping, cases, data.true_links


@dataclass
class Month:
    dir: Path
    registry: pd.DataFrame
    index: pd.DataFrame
    cases: list[Case]
    truth: set[tuple[str, str]]
    links: pd.DataFrame
    logs: list[str]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _run(runner: CliRunner, base: Path, month: str, registry: pd.DataFrame,
         index: pd.DataFrame) -> pd.DataFrame:
    folder = base / month
    folder.mkdir()
    registry.to_csv(folder / "registry.csv", index=False)
    index.to_csv(folder / "inmates.csv", index=False)
    result = runner.invoke(link_app, [
        "run", "--registry", str(folder / "registry.csv"),
        "--index", f"inmates={folder / 'inmates.csv'}",
        "--mapping", f"inmates={base / 'inmates.toml'}",
        "--state", str(base / "state"), "--out", str(folder / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    return pd.read_csv(folder / "out" / "links.csv", dtype=str)


@pytest.fixture(scope="module", autouse=True)
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private CVIS_HOME: the audit records of these runs go to a fresh store."""
    path = tmp_path_factory.mktemp("cvis-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CVIS_HOME", str(path))
        mp.delenv("CVIS_DATABASE_URL", raising=False)
        yield path


@pytest.fixture(scope="module")
def month1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Month]:
    base = tmp_path_factory.mktemp("linkage")
    registry, index, mapping, cases, truth = _frames()
    (base / "inmates.toml").write_text(mapping, encoding="utf-8")
    handler, root = _Collect(), logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        links = _run(CliRunner(), base, "month1", registry, index)
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    yield Month(base, registry, index, cases, truth, links, handler.messages)


def _pair_set(links: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(links.registry_id, links.record_id, strict=True))


def test_links_csv_has_the_contract_columns(month1: Month) -> None:
    assert list(month1.links.columns) == [
        "registry_id", "index", "record_id", "match_probability", "match_weight"]
    assert (month1.links["match_probability"].astype(float) >= 0.5).all()


def test_synthetic_links_are_found(month1: Month) -> None:
    found = _pair_set(month1.links)
    tp = len(found & month1.truth)
    precision, recall = tp / len(found), tp / len(month1.truth)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)


@pytest.mark.parametrize("n", range(9))
def test_name_and_date_variant_cases_link(month1: Month, n: int) -> None:
    case = month1.cases[n]
    queue = json.loads((month1.dir / "month1" / "out" / "run.json").read_text())
    assert queue["links"] > 0
    rows = month1.links[(month1.links.registry_id == f"CASE-R{n}")
                        & (month1.links.record_id == f"CASE-I{n}")]
    assert len(rows) == 1, case.name
    items = {i.key: i for i in review_queue(month1.dir / "state", include_decided=True)}
    item = items[link_key(f"CASE-R{n}", "inmates", f"CASE-I{n}")]
    assert case.expect in item.agreement, (case.name, item.agreement)


def _personal_values(registry: pd.DataFrame, index: pd.DataFrame) -> set[str]:
    values: set[str] = set()
    for col in ("given_names", "family_name", "dob", "national_id", "native_script_name"):
        values |= {str(v) for v in registry[col].dropna() if len(str(v)) >= 6}
    values |= {f"{g} {f}" for g, f in zip(registry.given_names, registry.family_name,
                                          strict=True)}
    for col in ("FirstName", "LastName", "BirthDate", "SSN", "NameAsBooked"):
        values |= {str(v) for v in index[col].dropna() if len(str(v)) >= 6}
    return values


def _leaks(messages: list[str], values: set[str]) -> list[str]:
    text = "\n".join(messages)
    return sorted(v for v in values if v in text)


def test_no_personal_value_in_month_one_logs(month1: Month) -> None:
    assert month1.logs, "expected some log output"
    assert _leaks(month1.logs, _personal_values(month1.registry, month1.index)) == []


def test_review_releases_and_second_month(month1: Month, caplog: pytest.LogCaptureFixture
                                          ) -> None:
    runner, state = CliRunner(), str(month1.dir / "state")
    key = {c.name: link_key(f"CASE-R{n}", "inmates", f"CASE-I{n}")
           for n, c in enumerate(month1.cases)}
    listing = runner.invoke(link_app, ["review", "--state", state, "--json"])
    assert listing.exit_code == 0
    queued = [json.loads(line) for line in listing.output.splitlines()]
    assert key["nickname"] in {q["key"] for q in queued}
    assert all(q["status"] == "pending" for q in queued)
    assert runner.invoke(link_app, ["review", "--state", state]).exit_code == 0
    assert runner.invoke(link_app, ["review", "--state", state, "--confirm", key["nickname"],
                                    "--confirm", key["alias"], "--reviewer", "analyst1"]
                         ).exit_code == 0
    assert runner.invoke(link_app, ["review", "--state", state, "--reject",
                                    key["romanisation"], "--reviewer", "analyst1",
                                    "--note", "different person"]).exit_code == 0
    assert runner.invoke(link_app, ["review", "--state", state, "--confirm", "nope",
                                    "--reviewer", "a"]).exit_code == 1
    assert runner.invoke(link_app, ["review", "--state", state, "--reject", "x"]
                         ).exit_code == 2  # a rejection needs a reason

    # Releases within 90 days of AS_OF, soonest first; the rejected link is left out.
    docs = month1.dir / "detainers"
    rel = runner.invoke(link_app, ["releases", "--state", state, "--days", "90",
                                   "--as-of", AS_OF, "--out", str(docs)])
    assert rel.exit_code == 0, rel.output
    jsons = sorted(docs.glob("*.json"))
    assert [json.loads(p.read_text())["custody"]["record_id"] for p in jsons] == [
        "CASE-I0", "CASE-I1"]
    text = " ".join(page.extract_text() for page in PdfReader(jsons[0].with_suffix(".pdf")).pages)
    for needle in ("Detainer request", "DRAFT", "2040-01-11", "CASE-I0", "Correction"):
        assert needle in text
    assert json.loads(jsons[1].read_text())["match_evidence"]["review_status"] == "confirmed"

    # Month two: one record gone, one new registrant copy, one record changed.
    index = month1.index.copy()
    gone = next(r for r, i in sorted(month1.truth) if (r, i) in _pair_set(month1.links))
    gone_record = next(i for r, i in month1.truth if r == gone)
    index = index[index.InmateNo != gone_record]
    index.loc[index.InmateNo == "CASE-I4", "Facility"] = "Moved Unit"
    reg = month1.registry.set_index("id").loc["CASE-R1"]
    new_row = {"InmateNo": "NEW-1", "FirstName": reg.given_names, "LastName": reg.family_name,
               "BirthDate": pd.Timestamp(reg.dob).strftime("%m/%d/%Y"), "Gender": reg.sex,
               "Facility": "Case Unit", "ProjectedRelease": "2041-01-01"}
    index = pd.concat([index, pd.DataFrame([new_row])], ignore_index=True)
    with caplog.at_level(logging.DEBUG):
        links2 = _run(runner, month1.dir, "month2", month1.registry, index)
    assert _leaks([r.getMessage() for r in caplog.records],
                  _personal_values(month1.registry, index)) == []

    changes = pd.read_csv(month1.dir / "month2" / "out" / "changes.csv", dtype=str)
    by_change = {c: set(zip(g.registry_id, g.record_id, strict=True))
                 for c, g in changes.groupby("change")}
    assert (gone, gone_record) in by_change["ended"]
    assert ("CASE-R1", "NEW-1") in by_change["new"]
    assert ("CASE-R4", "CASE-I4") in by_change["changed"]
    assert len(links2) > 0

    run1 = json.loads((month1.dir / "month1" / "out" / "run.json").read_text())
    run2 = json.loads((month1.dir / "month2" / "out" / "run.json").read_text())
    assert run2["previous_run_id"] == run1["run_id"]
    assert run2["models"] == run1["models"]  # the saved model is reused
    assert run2["inputs"][0]["sha256"] == run1["inputs"][0]["sha256"]
    assert run2["inputs"][1]["sha256"] != run1["inputs"][1]["sha256"]

    items = {i.key: i for i in review_queue(month1.dir / "state", include_decided=True)}
    assert items[key["nickname"]].status == "confirmed"  # remembered
    assert items[key["romanisation"]].status == "rejected"  # remembered
    assert items[key["alias"]].status == "re-review"  # its record changed
    assert items[key["transliteration"]].status == "pending"
    pending = {i.key for i in review_queue(month1.dir / "state")}
    assert key["nickname"] not in pending and key["alias"] in pending
    # Identities are stable: the registrant keeps the person id it had in month one,
    # and the new record joins it.
    assert items[link_key("CASE-R1", "inmates", "NEW-1")].person_id == \
        items[key["nickname"]].person_id
    assert {lead.record_id for lead in leads(month1.dir / "state")} >= {"CASE-I1"}


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(link_app, ["run", "--registry", "r.csv", "--index", "nofile",
                                   "--out", str(tmp_path)])
    assert bad.exit_code == 2
    missing = runner.invoke(link_app, ["run", "--registry", str(tmp_path / "none.csv"),
                                       "--index", f"x={tmp_path / 'none.csv'}",
                                       "--state", str(tmp_path / "s"), "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "no such file" in missing.output
