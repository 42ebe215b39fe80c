"""The fast import path: a reader process, column staging, one bound row per record.

Each test compares the fast path with what the list says, on both backends where the SQL
differs (PostgreSQL unpacks the staged JSON with its own operators).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cvis.hashsets.reader_process import ReaderFailed
from cvis.hashsets.records import KnownRecord
from cvis.hashsets.service import ImportRejected, ImportReport, import_file
from cvis.signals import SIGNAL_TYPES, InvalidSignalValue, register_signal_type
from cvis.signals.base import SignalType
from cvis.store.db import Store
from cvis.store.models import HashSet, KnownMedia
from tests.hashset_helpers import line, md5, pdq, records


class ToyPluginSignal(SignalType):
    """An out-of-tree signal: the reader process must learn it from this one."""

    name = "toy_plugin"
    media_kinds = frozenset({"image"})

    @classmethod
    def validate(cls, value: str) -> str:
        if not value.isalnum():
            raise InvalidSignalValue(f"toy_plugin must be letters and digits, got {value!r}")
        return value


@pytest.fixture(autouse=True)
def _registered_plugin() -> Iterator[None]:
    register_signal_type(ToyPluginSignal)
    yield
    SIGNAL_TYPES.pop(ToyPluginSignal.name, None)


RICH = [
    {"media_id": "R1", "signals": {"md5": md5("r1"), "sha1": "a" * 40, "pdq": pdq("r1"),
                                   "toy_plugin": "QUJD", "sha256": "b" * 64},
     "category": 1, "series": "Série «Ärger»", "victim_identified": True,
     "offender_identified": False, "distributed": False, "tags": ["t1", "t2"],
     "extra": {"note": "kept", "nested": {"n": [1, 2]}, "caid_category": "A"}},
    {"media_id": "R2", "signals": {"md5": md5("r2")}},
    {"media_id": "R3", "signals": {"toy_plugin": "REVG"}, "category": 0,
     "victim_identified": False},
    # What COPY's text format must escape: tab, newline, backslash, and \N (its NULL).
    {"media_id": "R4\t\n\\N", "signals": {"md5": md5("r4")}, "series": "a\\b\tc",
     "tags": ["\\N"]},
]


def _write(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def _import(store: Store, path: Path, name: str, *, reader_process: bool,
            skip_bad: bool = False) -> ImportReport:
    with store.session() as session:
        return import_file(session, path, name=name, format_name="jsonl",
                           reader_process=reader_process, skip_bad=skip_bad)


@pytest.mark.parametrize("reader_process", [True, False])
def test_every_field_survives_the_fast_path(store: Store, tmp_path: Path,
                                            reader_process: bool) -> None:
    _import(store, _write(tmp_path / "rich.jsonl", RICH), "rich", reader_process=reader_process)
    kept = records(store, "rich")
    assert kept["R1"] == KnownRecord(
        media_id="R1", signals=RICH[0]["signals"], category=1,  # type: ignore[arg-type]
        series="Série «Ärger»", victim_identified=True, offender_identified=False,
        distributed=False, tags=["t1", "t2"],
        extra={"note": "kept", "nested": {"n": [1, 2]}, "caid_category": "A"})
    assert kept["R2"] == KnownRecord(media_id="R2", signals={"md5": md5("r2")})
    assert kept["R3"].signals == {"toy_plugin": "REVG"}
    assert (kept["R3"].category, kept["R3"].victim_identified) == (0, False)
    assert kept["R3"].distributed is None
    odd = kept["R4\t\n\\N"]
    assert (odd.series, odd.tags) == ("a\\b\tc", ["\\N"])


def test_reader_process_and_in_process_store_the_same(sqlite_store: Store, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cvis.hashsets.service.BATCH", 2)
    items = [*RICH[:3], json.loads(line("R2", category=4)), json.loads(line("R9")),
             json.loads(line("R1", deleted=True))]
    path = _write(tmp_path / "list.jsonl", items)
    reports = [_import(sqlite_store, path, name, reader_process=flag)
               for name, flag in (("child", True), ("here", False))]
    assert records(sqlite_store, "child") == records(sqlite_store, "here")
    assert set(records(sqlite_store, "child")) == {"R2", "R3", "R9"}
    assert records(sqlite_store, "child")["R2"].category == 4, "the later record wins"
    counts = [(r.added, r.updated, r.removed, r.error_count) for r in reports]
    assert counts[0] == counts[1] == (4, 1, 1, 0)


def test_reader_process_reports_malformed_records_by_line(sqlite_store: Store,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"media_id,md5\nA,{md5('a')}\nB,not-a-hash\n,{md5('c')}\nD,{md5('d')}\n")
    with pytest.raises(ImportRejected) as rejected, sqlite_store.session() as session:
        import_file(session, path, name="nat", reader_process=True)
    assert [e.line for e in rejected.value.errors] == [3, 4]
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(KnownMedia)) == 0
    with sqlite_store.session() as session:
        report = import_file(session, path, name="nat", reader_process=True, skip_bad=True)
    assert (report.added, report.error_count) == (2, 2)
    assert set(records(sqlite_store, "nat")) == {"A", "D"}


def test_a_reader_failing_midway_leaves_nothing(sqlite_store: Store, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cvis.hashsets.service.BATCH", 2)
    path = tmp_path / "list.jsonl"
    good = "".join(line(f"M{i}") + "\n" for i in range(6)).encode()
    path.write_bytes(good + b'{"media_id": "\xff\xfe"}\n')
    with pytest.raises(UnicodeDecodeError), sqlite_store.session() as session:
        import_file(session, path, name="nat", format_name="jsonl", reader_process=True)
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(KnownMedia)) == 0
        assert session.scalar(select(func.count()).select_from(HashSet)) == 0


def test_a_reader_that_dies_is_a_clear_error(sqlite_store: Store, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "list.jsonl", RICH)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # exits at once, says nothing
    with pytest.raises(ReaderFailed, match="exit code 1"), sqlite_store.session() as session:
        import_file(session, path, name="nat", format_name="jsonl", reader_process=True)
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(HashSet)) == 0


def test_a_plugin_the_child_cannot_import_keeps_reading_here(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cvis.hashsets import service

    local = type("LocalSignal", (ToyPluginSignal,), {"name": "local_toy"})
    local.__qualname__ = "make.<locals>.LocalSignal"
    register_signal_type(local)
    monkeypatch.setattr(service, "READER_PROCESS_MIN_BYTES", 1)
    monkeypatch.setattr(service, "read_in_process", None)  # calling it would fail the test
    try:
        path = _write(tmp_path / "l.jsonl", [{"media_id": "L", "signals": {"local_toy": "x1"}}])
        with sqlite_store.session() as session:
            import_file(session, path, name="l")
    finally:
        SIGNAL_TYPES.pop("local_toy", None)
    assert records(sqlite_store, "l")["L"].signals == {"local_toy": "x1"}


def test_big_files_go_to_the_reader_process(sqlite_store: Store, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Path] = []
    from cvis.hashsets import service

    real = service.read_in_process

    def spy(path: Path, *args: object) -> object:
        started.append(path)
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "read_in_process", spy)
    monkeypatch.setattr(service, "READER_PROCESS_MIN_BYTES", 100)
    monkeypatch.setattr(service.os, "cpu_count", lambda: 2)
    small = _write(tmp_path / "small.jsonl", RICH[1:2])
    big = _write(tmp_path / "big.jsonl", RICH)
    with sqlite_store.session() as session:
        import_file(session, small, name="s")
        import_file(session, big, name="b")
    assert started == [big]
    assert set(records(sqlite_store, "b")) == {r["media_id"] for r in RICH}


@pytest.mark.parametrize("reader_process", [True, False])
def test_progress_counts_records_and_bytes_up_to_the_whole_file(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_process: bool
) -> None:
    monkeypatch.setattr("cvis.hashsets.service.BATCH", 3)
    path = _write(tmp_path / "list.jsonl", [json.loads(line(f"M{i}")) for i in range(8)])
    seen: list[tuple[int, int, bool]] = []
    with sqlite_store.session() as session:
        import_file(session, path, name="nat", reader_process=reader_process,
                    on_progress=lambda *update: seen.append(update))
    assert [(records, finishing) for records, _, finishing in seen] == [
        (3, False), (6, False), (8, False), (8, True)]
    positions = [position for _, position, _ in seen]
    assert positions == sorted(positions) and positions[-1] == path.stat().st_size


def test_the_import_bar_shows_records_rate_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from cvis.cli import render

    screen = io.StringIO()
    monkeypatch.setattr(render, "err_console", Console(file=screen, force_terminal=True,
                                                       width=200))
    with render.file_progress("importing", 4 * 2**20, enabled=True) as update:
        update(1_500_000, 2 * 2**20, False)
        update(1_500_000, 2 * 2**20, True)
    shown = screen.getvalue()
    assert "importing" in shown and "1,500,000 records" in shown and "records/s" in shown
    assert "2.1/4.2 MB" in shown and "indexing and committing" in shown


def test_queued_rows_give_the_same_set_however_often_they_are_flushed(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cvis.hashsets.service.BATCH", 2)
    items = [json.loads(line(m, category=c)) for m, c in
             [("B", 1), ("A", 1), ("C", 1), ("A", 2), ("D", 1), ("B", 3), ("E", 1), ("A", 4)]]
    items.insert(5, json.loads(line("C", deleted=True)))
    path = _write(tmp_path / "list.jsonl", items)
    results = {}
    for flush_rows in (1, 3, 1000):
        monkeypatch.setattr("cvis.hashsets.writer.STAGE_FLUSH_ROWS", flush_rows)
        report = _import(store, path, f"s{flush_rows}", reader_process=False)
        kept = {k: r.category for k, r in records(store, f"s{flush_rows}").items()}
        results[flush_rows] = (kept, report.added, report.removed)
    assert results[1][0] == {"A": 4, "B": 3, "D": 1, "E": 1}
    assert results[1] == results[3] == results[1000]
    assert results[1][1:] == (5, 1)


@pytest.mark.parametrize("value", [
    {"series": "Série «Ärger» \u2028", "tags": ["a", "b"], "extra": {"n": [1, 2.5, None]}},
    {"victim_identified": False, "distributed": True, "extra": {"nan": float("nan")}},
    {}, ["x", 1], "text", 1e300,
])
def test_the_staging_encoder_writes_what_json_dumps_writes(value: object) -> None:
    from cvis.hashsets.staging import dumps

    assert dumps(value) == json.dumps(value)
