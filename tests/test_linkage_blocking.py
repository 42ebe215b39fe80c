"""Candidate pairs under skewed names: a common name pairs a registrant only with the
namesakes that share a part of the date of birth, an uncommon name with all its holders
(so the pairs grow about linearly with the tables). Hand-made synthetic records."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from cvis.linkage import comparisons, features

FIELDS = ["dob", "sex", "state"]


def _candidates(registry: list[dict[str, object]], index: list[dict[str, object]]) -> set[str]:
    """Index record ids that any blocking rule pairs with the registry (names as written)."""
    left = features.splink_input(pd.DataFrame(registry), FIELDS)
    left = left[left["name_order"] == "A"].drop(columns=["given_groups", "family_tokens"])
    right = features.splink_input(pd.DataFrame(index), FIELDS, side="i").drop(
        columns=["given_groups", "family_tokens"])
    features.mark_common_names(left, right)
    con = duckdb.connect()
    con.register("l", left)
    con.register("r", right)
    found: set[str] = set()
    for rule in comparisons.blocking_rules(FIELDS):
        found |= {row[0] for row in con.execute(f"SELECT r.record_id FROM l JOIN r ON {rule}"
                                                ).fetchall()}
    return found


def _person(rid: str, given: str, family: str, dob: str) -> dict[str, object]:
    return {"id": rid, "given_names": given, "family_name": family, "dob": dob, "sex": "M",
            "state": "TX"}


@pytest.fixture(scope="module")
def crowd() -> list[dict[str, object]]:
    """More holders of one name than COMMON_NAME_RECORDS, born 1950-1999 on other days."""
    n = features.COMMON_NAME_RECORDS + 20
    return [_person(f"C{k}", "Anh", "Nguyen", f"{1950 + k % 50}-{1 + k % 12:02d}-"
                    f"{10 + k % 18:02d}") for k in range(n)]


def test_common_name_pairs_only_with_a_shared_part_of_the_date(
        crowd: list[dict[str, object]]) -> None:
    registrant = _person("R1", "Anh", "Nguyen", "1980-03-05")
    index = [*crowd,
             _person("SAME-YEAR", "Anh", "Nguyen", "1980-11-27"),     # a slip in day/month
             _person("SAME-DAY", "Anh", "Nguyen", "1987-03-05"),      # a slip in the year
             _person("PLACEHOLDER", "Anh", "Nguyen", "1980-01-01"),   # 1 January, same year
             _person("NO-DATE", "Anh", "Nguyen", "")]
    found = _candidates([registrant], index)
    assert {"SAME-YEAR", "SAME-DAY", "PLACEHOLDER"} <= found
    assert "NO-DATE" not in found
    same_part = {p["id"] for p in crowd if str(p["dob"]).startswith("1980-")
                 or str(p["dob"]).endswith("-03-05")}
    assert found & {str(p["id"]) for p in crowd} == same_part


def test_uncommon_name_pairs_with_every_holder(crowd: list[dict[str, object]]) -> None:
    registrant = _person("R2", "Amber", "Luna", "1975-06-14")
    index = [*crowd, _person("LUNA-1", "Amber", "Luna", ""),
             _person("LUNA-2", "Amber", "Luna", "1931-12-30")]
    assert _candidates([registrant], index) == {"LUNA-1", "LUNA-2"}
