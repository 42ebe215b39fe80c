"""The evidence a record without a usable date of birth carries, and who keeps an index
record that two registrants claim. Small hand-made synthetic records, no model training."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from splink.blocking_rule_library import CustomRule

from cvis.linkage import assign, comparisons, features, model
from cvis.linkage.engines import Engine

FIELDS = ["dob", "sex", "state"]


def _levels(registry: dict[str, object], others: list[dict[str, object]]) -> list[dict[str, str]]:
    """Comparison level labels of one registrant against each index record."""
    left = features.splink_input(pd.DataFrame([registry]), FIELDS)
    left = left[left["name_order"] == "A"]  # the names as written
    right = features.splink_input(pd.DataFrame(others), FIELDS, side="i")
    right = right[right["unique_id"].str.startswith("i:0:")].reset_index(drop=True)
    settings = model.settings(FIELDS)
    settings.blocking_rules_to_generate_predictions = [CustomRule("1=1")]  # every pair
    settings.retain_intermediate_calculation_columns = True
    settings.retain_matching_columns = True  # Splink keeps the gamma columns only with them
    linker = Engine("duckdb").linker([left, right], settings)
    pairs = linker.inference.predict().as_pandas_dataframe()
    index_left = pairs["unique_id_l"].str.startswith("i:")  # Splink orders the sides itself
    pairs["record"] = pairs["record_id_l"].where(index_left, pairs["record_id_r"])
    pairs = pairs.set_index("record").loc[right["record_id"]]
    return [{s.name: s.label(int(row[f"gamma_{s.name}"])) for s in comparisons.build(FIELDS)}
            for _, row in pairs.iterrows()]


@pytest.fixture(scope="module")
def levels() -> list[dict[str, str]]:
    registrant = {"id": "R1", "given_names": "Amber", "family_name": "Luna",
                  "dob": "1975-06-14", "sex": "F", "state": "TX"}
    dates = ["1975-01-01", "1980-01-01", "1900-01-01", None, "1975-06-14"]
    others = [{"id": f"I{k}", "given_names": "Amber", "family_name": "Luna", "dob": d,
               "sex": "F", "state": "TX"} for k, d in enumerate(dates)]
    # a keyboard slip in a name nobody else has
    others.append({"id": "I9", "given_names": "Amrer", "family_name": "Luna",
                   "dob": "1975-06-14", "sex": "F", "state": "TX"})
    return _levels(registrant, others)


def test_placeholder_with_the_same_year_is_evidence(levels: list[dict[str, str]]) -> None:
    assert levels[0]["dob"] == "placeholder date, same year"


def test_placeholder_of_another_year_reads_as_a_different_date(
        levels: list[dict[str, str]]) -> None:
    assert levels[1]["dob"] == "different"


def test_unknown_year_and_missing_date_are_unknown_not_disagreement(
        levels: list[dict[str, str]]) -> None:
    assert levels[2]["dob"] == "placeholder date"
    assert levels[3]["dob"] == "missing"
    assert levels[4]["dob"] == "exact"


def test_a_typo_in_an_uncommon_spelling_is_its_own_level(levels: list[dict[str, str]]) -> None:
    assert levels[5]["given_name"] == "one typo, uncommon spelling"
    assert levels[5]["sex"] == "exact" and levels[5]["state"] == "exact"


def test_fixed_m_makes_a_different_sex_strong_evidence_of_two_people() -> None:
    specs = {s.name: s for s in comparisons.build(FIELDS, {"sex": {"exact": 0.995,
                                                                    "different": 0.005}})}
    levels = dict(specs["sex"].levels)
    assert levels["different"].m_probability == pytest.approx(0.005)
    assert levels["exact"].m_probability == pytest.approx(0.995)


def _scored(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    explanation = json.dumps({"fields": [{"field": "dob", "agreement": "exact"},
                                         {"field": "given_name", "agreement": "exact"}]})
    return pd.DataFrame([{"registry_id": r, "index": "inmates", "record_id": i,
                          "match_probability": p, "match_weight": 5.0,
                          "raw_probability": p, "agreement": "", "explanation": explanation}
                         for r, i, p in rows])


def _records(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"identity": ids, "dob_block": None, "dob_dm": None,
                         "national_id": None}, index=ids)


def test_an_index_record_stays_with_the_registrant_that_scores_highest() -> None:
    out = assign.plausible(_scored([("R1", "I1", 0.8), ("R2", "I1", 0.6)]),
                           _records(["I1"]), threshold=0.5, review_floor=0.2)
    band = dict(zip(out.registry_id, out.band, strict=True))
    reason = dict(zip(out.registry_id, out.reason, strict=True))
    assert band == {"R1": assign.LINK, "R2": assign.REVIEW}
    assert reason["R2"] == "another registrant scores higher"


def test_two_strong_claims_on_one_record_both_stand() -> None:
    """The registry's own duplicates: both registrants are the person on strong evidence."""
    out = assign.plausible(_scored([("R1", "I1", 0.99), ("R2", "I1", 0.95)]),
                           _records(["I1"]), threshold=0.5, review_floor=0.2)
    assert set(out.band) == {assign.LINK}
