"""Areas of responsibility: import, a county beats its state, the national desk, ZIP codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cvis.cli.app import app
from cvis.config import Settings
from cvis.offices.service import (
    OfficeTableError,
    import_offices,
    office_for,
    office_for_zip,
    read_offices,
)
from cvis.store.db import Store

TABLE = """office_id,name,email,states,counties
HOU,Houston,hou@example.org,,TX:Harris County;TX:Fort Bend
DAL,Dallas,dal@example.org,TX;OK,
NYC,New York,nyc@example.org,NY,
HQ,National desk,desk@example.org,*,
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "offices.csv"
    path.write_text(text)
    return path


def test_county_beats_state_and_the_national_desk_takes_the_rest(
    store: Store, tmp_path: Path
) -> None:
    with store.session() as session:
        import_offices(session, read_offices(_write(tmp_path, TABLE)))
    with store.session() as session:
        assert office_for(session, "TX", "Harris").office_id == "HOU"  # type: ignore[union-attr]
        assert office_for(session, "tx", "harris county").office_id == "HOU"  # type: ignore[union-attr]
        assert office_for(session, "TX", "Travis County").office_id == "DAL"  # type: ignore[union-attr]
        assert office_for(session, "CA", "Los Angeles").office_id == "HQ"  # type: ignore[union-attr]
        assert office_for(session, None).office_id == "HQ"  # type: ignore[union-attr]
        assert office_for_zip(session, "77002").office_id == "HOU"  # type: ignore[union-attr]
        assert office_for_zip(session, "10001").office_id == "NYC"  # type: ignore[union-attr]
        assert office_for_zip(session, "00000").office_id == "HQ"  # type: ignore[union-attr]


def test_reimport_replaces_the_areas(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        import_offices(session, read_offices(_write(tmp_path, TABLE)))
    second = "office_id,name,email,states,counties\nDAL,Dallas,d@example.org,TX;NY,\n"
    with store.session() as session:
        import_offices(session, read_offices(_write(tmp_path, second)))
    with store.session() as session:
        assert office_for(session, "NY", "Kings").office_id == "DAL"  # type: ignore[union-attr]
        assert office_for(session, "CA") is None


@pytest.mark.parametrize("text, message", [
    ("office_id,name,email,states\nA,a,,TX\n", "missing column(s) counties"),
    ("office_id,name,email,states,counties\nA,a,,Texas,\n", "line 2"),
    ("office_id,name,email,states,counties\nA,a,,*,\nB,b,,*,\n", "more than one national desk"),
    ("office_id,name,email,states,counties\nA,a,,TX,\nB,b,,TX,\n", "claimed by both A and B"),
    ("office_id,name,email,states,counties\nA,a,,,Harris\n", "not 'ST:County Name'"),
])
def test_a_bad_table_is_refused_whole(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(OfficeTableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_offices(_write(tmp_path, text))


def test_cli_import_and_list(cli_env: Settings, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["office", "import", str(_write(tmp_path, TABLE))])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["office", "list", "--json"])
    rows = {r["office_id"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["HQ"]["states"] == ["*"]
    assert rows["HOU"]["counties"] == ["TX:fort bend", "TX:harris"]
    bad = runner.invoke(app, ["office", "import", str(_write(tmp_path, "x,y\n1,2\n"))])
    assert bad.exit_code == 2
    still = runner.invoke(app, ["office", "list", "--json"])
    assert len(still.stdout.splitlines()) == 4
