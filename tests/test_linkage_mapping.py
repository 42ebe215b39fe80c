"""Mapping files: canonical columns, formats, aliases, and malformed rows by row number."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from cvis.linkage.mapping import MappingError, load_source, parse_mapping

MAPPING = """
[fields]
id = "No"
given_names = "First"
family_name = "Last"
dob = { column = "Born", format = "%d/%m/%Y" }
aliases = { column = "AKA", separator = "|" }
address = ["StreetNo", "Street"]

[attributes]
release_date = { column = "Out", format = "%Y-%m-%d" }
"""

CSV = """No,First,Last,Born,AKA,StreetNo,Street,Out,sex,Facility
A1,Ann,Lee,03/04/1980,Annie Lee|A Lee,12,Oak Road,2030-01-01,F,North
A2,Bob,Ray,31/02/1979,,5,Elm St,2030-02-30,M,North
A3,Cy,Day,01/01/1990,,7,Ash Lane,,Q,South,EXTRA
A4,Di,Fox,02/02/1991
,Ed,Gil,05/05/1985,,,,,M,North
A1,Fay,Hu,06/06/1986,,,,,F,North
"""


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "idx.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_fields_attributes_and_aliases_are_mapped(source: Path) -> None:
    table = load_source("idx", source, parse_mapping(MAPPING))
    first = table.frame.iloc[0]
    assert first["dob"] == "1980-04-03"
    assert first["aliases"] == ["Annie Lee", "A Lee"]
    assert first["address"] == "12 Oak Road"
    assert first["sex"] == "F"  # already canonical: no mapping needed
    assert first["release_date"] == "2030-01-01"
    assert "Facility" in table.attributes and "release_date" in table.attributes
    assert len(table.sha256) == 64


def test_malformed_rows_and_fields_are_reported_by_row_and_run_goes_on(
    source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        table = load_source("idx", source, parse_mapping(MAPPING))
    problems = {(i.row, i.field) for i in table.issues}
    assert (3, "dob") in problems  # 31 February
    assert (3, "release_date") in problems  # 30 February
    assert (4, "*") in problems  # too many fields: row skipped
    assert (4, "sex") not in problems
    assert (5, "*") in problems  # too few fields: rest missing
    assert (6, "id") in problems and (7, "id") in problems  # missing / duplicate id
    assert list(table.frame["id"]) == ["A1", "A2", "A4"]
    bob = table.frame.set_index("id").loc["A2"]
    assert bob["dob"] is None and bob["given_names"] == "Bob"
    text = " ".join(r.getMessage() for r in caplog.records)
    for value in ("Bob", "Ray", "31/02/1979", "Annie", "Oak Road"):
        assert value not in text


def test_unrecognised_sex_code_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,given_names,family_name,sex\n1,Jo,Ng,Q\n", encoding="utf-8")
    table = load_source("r", path, parse_mapping(""))
    assert [(i.row, i.field) for i in table.issues] == [(2, "sex")]
    assert table.frame["sex"].iloc[0] is None


def test_parquet_input_with_canonical_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pd.DataFrame({"id": [1, 2], "given_names": ["Jo", None], "family_name": ["Ng", "Li"],
                  "dob": ["1970-01-02", "1970-13-01"]}).to_parquet(path)
    table = load_source("r", path, parse_mapping(""))
    assert list(table.frame["id"]) == ["1", "2"]
    assert [(i.row, i.field) for i in table.issues] == [(2, "dob")]


@pytest.mark.parametrize("text", ["[fields]\nnickname = 'x'", "[fields\n", "[fields]\nid = 3"])
def test_bad_mapping_files_are_usage_errors(text: str) -> None:
    with pytest.raises(MappingError):
        parse_mapping(text)


def test_mapping_to_missing_column_is_an_error(source: Path) -> None:
    with pytest.raises(MappingError):
        load_source("idx", source, parse_mapping("[fields]\nid = 'Nope'"))
