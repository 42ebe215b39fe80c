"""A plug-in signal type is imported, indexed, matched and reported like a built-in one."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance
from sqlalchemy import select
from typer.testing import CliRunner

from cvis.cases.scanning import run_scan
from cvis.cli.app import app
from cvis.config import Settings
from cvis.identify.matcher import Matcher, Query
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.signals import SIGNAL_TYPES, register_signal_type
from cvis.store.db import Store
from cvis.store.models import KnownSignal
from tests.toy_signal import AverageHash64


@pytest.fixture
def toy_signal() -> Iterator[type[AverageHash64]]:
    register_signal_type(AverageHash64)
    yield AverageHash64
    SIGNAL_TYPES.pop(AverageHash64.name, None)


def write_manifest(sample_pictures: dict[str, Path], folder: Path) -> Path:
    folder.mkdir()
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["media_id", "file", "category", "series", "victim_identified", "note"])
        for i, name in enumerate(("chelsea", "coffee")):
            target = folder / "pics" / f"{name}.png"
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(sample_pictures[name].read_bytes())
            writer.writerow([f"M{i}", f"pics/{name}.png", 1, f"series-{name}", "yes", "ignored"])
    return manifest


def test_toy_signal_end_to_end(
    toy_signal: type[AverageHash64], cli_env: Settings, runner: CliRunner,
    sample_pictures: dict[str, Path], tmp_path: Path,
) -> None:
    manifest = write_manifest(sample_pictures, tmp_path / "known")
    done = runner.invoke(app, ["sets", "import-media", str(manifest), "--name", "toyset"])
    assert done.exit_code == 0, done.output
    store = Store(cli_env)
    with store.session() as session:  # imported: one ahash per picture
        stored = dict(session.execute(
            select(KnownSignal.value, KnownSignal.signal_type).where(
                KnownSignal.signal_type == "ahash")).all())
    pixels = np.asarray(Image.open(sample_pictures["chelsea"]).convert("RGB"))
    chelsea = toy_signal.from_pixels(pixels)[0]
    assert len(stored) == 2 and chelsea in stored

    # a brighter, re-encoded copy: the digests differ, the toy hash stays near
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    brighter = ImageEnhance.Brightness(Image.open(sample_pictures["chelsea"])).enhance(1.1)
    brighter.convert("RGB").save(evidence / "copy.jpg", quality=85)
    scan_id = run_scan(store, ScanRequest("TOY-1", [evidence], workers=1))
    with store.session() as session:  # matched in a scan (worker process) and reported
        rows = list(iter_scan_results(session, scan_id))
        toy = [m for m in rows[0]["matches"] if m["signal"] == "ahash"]
        assert toy and toy[0]["media_id"] == "M0" and toy[0]["set"] == "toyset"
        assert toy[0]["distance"] <= toy_signal.default_threshold
        assert toy[0]["victim_identified"] is True and toy[0]["series"] == "series-chelsea"
        # indexed: the matcher searches the toy index, at the set's threshold
        far = "".join("f" if c == "0" else "0" for c in chelsea[:4]) + chelsea[4:]
        found = Matcher(session, ["toyset"]).match([Query("ahash", chelsea),
                                                    Query("ahash", far)])
        assert [m.media_id for m in found[0]] == ["M0"] and found[1] == []
    store.dispose()

    looked = runner.invoke(app, ["lookup", "-", "--signal", "ahash"], input=chelsea + "\n")
    assert looked.exit_code == 0, looked.output
    answer = json.loads(looked.output.strip().splitlines()[-1])
    assert answer["signal"] == "ahash" and answer["matches"][0]["media_id"] == "M0"
