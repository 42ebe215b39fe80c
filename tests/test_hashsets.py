"""Importing hash lists: versions, line-numbered errors, all or nothing, round trips."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cvis.hashsets.service import ImportRejected, export_set, import_file, list_sets
from cvis.store.db import Store
from cvis.store.models import KnownMedia, KnownSignal, SetVersion

MD5_A = "a" * 32
MD5_B = "b" * 32
PDQ_A = "f" * 64
HEADER = "media_id,md5,sha1,sha256,pdq,category,series,victim_identified,agency_note\n"


def write(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def count(store: Store, model: type) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_creates_media_signals_and_a_version(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", f"M1,{MD5_A},,,{PDQ_A},1,Series X,true,call desk 4\n"
                                     f"M2,{MD5_B.upper()},,,,2,,false,\n")
    with store.session() as session:
        report = import_file(session, path, name="national")
    assert (report.added, report.version, report.format) == (2, 1, "csv")
    assert count(store, KnownSignal) == 3
    with store.session() as session:
        m1 = session.scalar(select(KnownMedia).where(KnownMedia.media_id == "M1"))
        assert m1 is not None
        assert (m1.category, m1.series, m1.victim_identified) == (1, "Series X", True)
        assert m1.extra == {"agency_note": "call desk 4"}
        values = set(session.scalars(select(KnownSignal.value)))
    assert MD5_B in values, "hashes are stored normalised to lower case"


def test_malformed_rows_reject_the_whole_import_with_line_numbers(
    store: Store, tmp_path: Path
) -> None:
    path = write(tmp_path / "s.csv", f"M1,{MD5_A},,,,1,,,\nM2,xyz,,,,1,,,\nM3,{MD5_B},,,,9x,,,\n")
    with pytest.raises(ImportRejected) as caught, store.session() as session:
        import_file(session, path, name="national")
    assert [e.line for e in caught.value.errors] == [3, 4]
    assert "md5 must be 32 hexadecimal" in str(caught.value)
    assert count(store, KnownMedia) == 0, "nothing half-imported"
    assert count(store, SetVersion) == 0


def test_skip_bad_imports_the_rest(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", f"M1,{MD5_A},,,,1,,,\nM2,,,,,1,,,\n")
    with store.session() as session:
        report = import_file(session, path, name="national", skip_bad=True)
    assert (report.added, report.error_count) == (1, 1)
    assert report.errors[0].line == 3 and "no hash" in report.errors[0].reason


def test_reimport_is_a_new_version_of_updates(store: Store, tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", f"M1,{MD5_A},,,,1,,,\n")
    second = write(tmp_path / "b.csv", f"M1,{MD5_B},,,,2,,,\nM2,{MD5_A},,,,1,,,\n")
    with store.session() as session:
        import_file(session, first, name="national")
    with store.session() as session:
        report = import_file(session, second, name="national")
    assert (report.version, report.added, report.updated) == (2, 1, 1)
    with store.session() as session:
        m1 = session.scalar(select(KnownMedia).where(KnownMedia.media_id == "M1"))
        assert m1 is not None and m1.category == 2
        assert [s.value for s in m1.signals] == [MD5_B]
        summaries = list_sets(session)
    assert summaries[0].media == 2 and summaries[0].versions == 2


def test_export_round_trip_keeps_every_field(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", f"M1,{MD5_A},,,{PDQ_A},1,Series X,true,note\n")
    with store.session() as session:
        import_file(session, path, name="one")
        out = io.StringIO()
        export_set(session, "one", "csv", out)
    again = tmp_path / "again.csv"
    again.write_text(out.getvalue(), encoding="utf-8")
    with store.session() as session:
        import_file(session, again, name="two")
        out2 = io.StringIO()
        export_set(session, "two", "csv", out2)
    assert out.getvalue() == out2.getvalue()
    assert "note" in out.getvalue() and "Series X" in out.getvalue()
