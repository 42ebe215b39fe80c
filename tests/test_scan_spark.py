"""`cvis scan --engine spark`: the demo's evidence hashed on Spark (local mode), from a folder
or from an object-store prefix, gives the same items, hashes and matches as the local scan,
stored in the case."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cvis.cases.scanning import run_scan
from cvis.cli.app import app
from cvis.config import Settings
from cvis.demo import DEMO_SET, build_evidence, build_reference
from cvis.evidence.custody import case_evidence, manifest_of
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.identify.spark_engine import spark_session
from cvis.store.db import Store
from cvis.store.models import Case
from tests.disk_image_helpers import e01_set, fat_image
from tests.object_store_helpers import ObjectStore


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("demo")
    known = build_reference(root / "reference")
    build_evidence(root / "reference", root / "evidence")
    return known, root / "evidence"


def _results(store: Store, scan_id: int) -> dict[str, tuple[Any, ...]]:
    with store.session() as session:
        return {
            row["path"]: (row["md5"], row["pdq"], row["error"], tuple(row["flags"]),
                          tuple(sorted((m["media_id"], m["signal"], m["distance"])
                                       for m in row["matches"])))
            for row in iter_scan_results(session, scan_id)
        }


def test_a_spark_scan_of_the_demo_gives_the_local_scan_s_results(
    store: Store, spark: Any, demo_data: tuple[Path, Path]
) -> None:
    known, evidence = demo_data
    with store.session() as session:
        import_file(session, known, name=DEMO_SET)
    local = run_scan(store, ScanRequest("LOCAL", [evidence], [DEMO_SET], workers=1))
    on_spark = run_scan(store, ScanRequest("SPARK", [evidence], [DEMO_SET], engine="spark"))
    expected, got = _results(store, local), _results(store, on_spark)
    assert len(expected) >= 30 and sum(bool(v[4]) for v in expected.values()) >= 20
    assert got == expected


def test_cli_engine_spark_and_an_unknown_engine(
    cli_env: Settings, runner: CliRunner, spark: Any, demo_data: tuple[Path, Path]
) -> None:
    known, evidence = demo_data
    assert runner.invoke(app, ["sets", "import", str(known), "--name", DEMO_SET]).exit_code == 0
    ok = runner.invoke(app, ["scan", str(evidence / "DCIM"), "--case", "C-SPARK", "--sets",
                             DEMO_SET, "--engine", "spark", "--quiet"])
    assert ok.exit_code == 0, ok.output
    assert '"matches": [{' in ok.stdout
    bad = runner.invoke(app, ["scan", str(evidence), "--case", "C-2", "--engine", "hadoop"])
    assert bad.exit_code != 0 and "unknown engine 'hadoop'" in bad.output


def test_a_spark_scan_of_an_object_store_prefix_gives_the_local_scan_s_results(
    store: Store, spark: Any, demo_data: tuple[Path, Path], object_store: ObjectStore,
    tmp_path: Path,
) -> None:
    """The evidence in an S3-compatible store (a real server on loopback), listed by the
    driver and read by the executors where it lives: the local scan's items, by URI, an
    E01 set's files read by the executors through the set's segments in the store."""
    known, demo_evidence = demo_data
    evidence = tmp_path / "evidence"
    shutil.copytree(demo_evidence, evidence)
    (evidence / "Disks").mkdir()
    for segment in e01_set(fat_image(tmp_path, mib=2), tmp_path / "card", segment_mib=1):
        shutil.copy(segment, evidence / "Disks" / segment.name)
    with zipfile.ZipFile(evidence / "Downloads" / "album.zip", "w") as album:
        for picture in sorted((demo_evidence / "DCIM").glob("IMG_01*.jpg"))[:2]:
            album.write(picture, f"album/{picture.name}")
    with store.session() as session:
        import_file(session, known, name=DEMO_SET)
    prefix = object_store.upload(evidence, "evidence-spark", tmp_path.name)
    local = run_scan(store, ScanRequest("LOCAL", [evidence], [DEMO_SET], workers=1))
    on_spark = run_scan(store, ScanRequest("SPARK", [prefix], [DEMO_SET], engine="spark"))
    expected = {path.removeprefix(str(evidence)): row
                for path, row in _results(store, local).items()}
    got = {path.removeprefix(prefix.rstrip("/")): row
           for path, row in _results(store, on_spark).items()}
    assert "/Downloads/album.zip!album/IMG_0100.jpg" in expected
    assert expected["/Disks/card.E01!/DCIM/kept.png"][1] is not None
    assert len(expected) >= 33 and sum(bool(v[4]) for v in expected.values()) >= 22
    assert got == expected
    with store.session() as session:  # custody: the prefix's manifest is the folder's
        digests = {e.kind: getattr(manifest_of(session, e.id), "sha256", None)
                   for case in session.scalars(select(Case))
                   for e in case_evidence(session, case.id)}
    assert digests.keys() == {"folder", "prefix"} and digests["folder"]
    assert digests["prefix"] == digests["folder"]
