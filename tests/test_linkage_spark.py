"""The same run on Splink's Spark backend, in Spark local mode."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cvis.cli.link import link_app
from cvis.linkage import synthetic
from cvis.linkage.engines import spark_available

reason = spark_available()
pytestmark = pytest.mark.skipif(reason is not None, reason=f"Spark engine: {reason}")


def test_spark_engine_links_like_duckdb(tmp_path: Path) -> None:
    # 40 true links: enough for the bounds below (DuckDB and Spark both find all 40 here);
    # Spark's time grows with the pairs it samples and scores, not with what this asserts.
    data = synthetic.generate(registrants=200, index_records=1000, seed=3)
    data.registry.to_csv(tmp_path / "registry.csv", index=False)
    data.index.to_csv(tmp_path / "inmates.csv", index=False)
    (tmp_path / "inmates.toml").write_text(data.index_mapping, encoding="utf-8")
    result = CliRunner().invoke(link_app, [
        "run", "--registry", str(tmp_path / "registry.csv"),
        "--index", f"inmates={tmp_path / 'inmates.csv'}",
        "--mapping", f"inmates={tmp_path / 'inmates.toml'}", "--engine", "spark",
        "--state", str(tmp_path / "state"), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    links = pd.read_csv(tmp_path / "out" / "links.csv", dtype=str)
    found = set(zip(links.registry_id, links.record_id, strict=True))
    tp = len(found & data.true_links)
    assert tp / len(data.true_links) >= 0.85 and tp / max(len(found), 1) >= 0.85
    assert (tmp_path / "state" / "models" / "inmates.spark").is_dir()
