"""Version history: each import is a version of adds, updates and tombstones; any version
can be listed, exported and compared."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select

from cvis.hashsets.categories import CAID_FIELD
from cvis.hashsets.service import (
    ImportRejected,
    UnknownVersion,
    diff_versions,
    import_file,
    import_stream,
    list_versions,
)
from cvis.store.db import Store
from cvis.store.models import KnownMedia, SetChange
from tests.hashset_helpers import exported, import_lines, line, md5, records


def three_versions(store: Store) -> None:
    import_lines(store, "nat", line("A", category=1), line("B", category=1), line("C"))
    import_lines(store, "nat", line("A", category=2), line("B", deleted=True), line("D"))
    import_lines(store, "nat", line("A", category=3), line("B", category=1), line("C"))


def test_each_version_counts_adds_updates_tombstones_and_unchanged(store: Store) -> None:
    three_versions(store)
    with store.session() as session:
        versions = list_versions(session, "nat")
    assert [(v.number, v.added, v.updated, v.removed) for v in versions] == [
        (1, 3, 0, 0), (2, 1, 1, 1), (3, 1, 1, 0)]
    assert set(records(store, "nat")) == {"A", "B", "C", "D"}


def test_any_version_can_be_exported_as_it_was(store: Store) -> None:
    three_versions(store)
    assert {k: r.category for k, r in records(store, "nat", 1).items()} == {
        "A": 1, "B": 1, "C": None}
    assert {k: r.category for k, r in records(store, "nat", 2).items()} == {
        "A": 2, "C": None, "D": None}
    assert records(store, "nat", 3) == records(store, "nat")
    assert records(store, "nat", 0) == {}
    assert exported(store, "nat", version=2).count("\n") == 3


def test_diff_between_versions_is_net(store: Store) -> None:
    three_versions(store)
    with store.session() as session:
        changes = {c.media_id: c.action for c in diff_versions(session, "nat", 1, 3)}
        only_two = {c.media_id: c.action for c in diff_versions(session, "nat", 1, 2)}
    # B was removed in 2 and restored unchanged in 3: no net change.
    assert changes == {"A": "update", "D": "add"}
    assert only_two == {"A": "update", "B": "delete", "D": "add"}


def test_unknown_version_is_a_clear_error(sqlite_store: Store) -> None:
    import_lines(sqlite_store, "nat", line("A"))
    with pytest.raises(UnknownVersion, match="no version 5"):
        records(sqlite_store, "nat", 5)


def test_rejected_import_leaves_no_version_and_no_changes(sqlite_store: Store) -> None:
    import_lines(sqlite_store, "nat", line("A"))
    with pytest.raises(ImportRejected), sqlite_store.session() as session:
        import_stream(session, io.StringIO(line("B") + "\n{broken\n"), name="nat",
                      format_name="jsonl")
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(SetChange)) == 1
        assert len(list_versions(session, "nat")) == 1
        assert session.scalar(select(func.count()).select_from(KnownMedia)) == 1


def test_a_media_id_repeated_across_batches_in_one_file_is_an_update(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cvis.hashsets.service.BATCH", 2)
    report = import_lines(sqlite_store, "nat", line("A"), line("B"), line("A", category=4),
                          line("C"), line("B", deleted=True))
    assert (report.added, report.updated, report.removed) == (3, 1, 1)
    assert {k: r.category for k, r in records(sqlite_store, "nat").items()} == {"A": 4, "C": None}


def test_caid_categories_are_kept_and_mapped_to_project_vic(sqlite_store: Store,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "uk.csv"
    path.write_text(f"media_id,md5,caid_category\nU1,{md5('u1')},b\nU2,{md5('u2')},\n")
    with sqlite_store.session() as session:
        import_file(session, path, name="uk")
    kept = records(sqlite_store, "uk")
    assert (kept["U1"].category, kept["U1"].extra[CAID_FIELD]) == (1, "B")
    assert kept["U2"].category is None


def test_a_bad_caid_letter_is_a_malformed_record(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "uk.csv"
    path.write_text(f"media_id,md5,caid_category\nU1,{md5('u1')},D\n")
    with pytest.raises(ImportRejected, match="not a CAID category"), \
            sqlite_store.session() as session:
        import_file(session, path, name="uk")


@pytest.mark.parametrize("fmt", ["vics", "vics2", "icse", "ncmec", "hma", "csv", "jsonl"])
def test_round_trip_through_the_store_is_identical(store: Store, fmt: str) -> None:
    import_lines(store, "src", line("1", category=1, series="S", victim_identified=True,
                                    distributed=False, tags=["t"]),
                 line("2", extra={"note": "kept"}))
    first = exported(store, "src", fmt)
    with store.session() as session:
        import_stream(session, io.StringIO(first), name="copy", format_name="auto")
    assert exported(store, "copy", fmt) == first
    again = records(store, "copy")
    assert again["1"].series == "S" and again["1"].victim_identified is True


def _index_names(store: Store) -> set[str]:
    inspector = sqlalchemy.inspect(store.engine)
    return {str(index["name"]) for table in inspector.get_table_names()
            for index in inspector.get_indexes(table)}


def test_a_big_import_rebuilds_the_indexes_it_dropped(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite drops two indexes during a big import and rebuilds them; PostgreSQL keeps them
    (COPY into a stage instead); either way the indexes are there after it."""
    sqlite = store.engine.dialect.name == "sqlite"
    sqlite_store = store
    monkeypatch.setattr("cvis.hashsets.bulk.DEFER_AFTER_ROWS", 2)
    monkeypatch.setattr("cvis.hashsets.service.BATCH", 2)
    from cvis.hashsets.bulk import BulkWriter

    rebuilt: list[int] = []
    real_finish = BulkWriter.finish

    def spy(self: BulkWriter) -> None:
        rebuilt.append(len(self._deferred or []))
        real_finish(self)

    monkeypatch.setattr(BulkWriter, "finish", spy)
    before = _index_names(sqlite_store)
    import_lines(sqlite_store, "big", *(line(str(i)) for i in range(7)))
    assert rebuilt == ([2] if sqlite else [0]), "SQLite drops the two randomly keyed indexes"
    assert _index_names(sqlite_store) == before
    with pytest.raises(ImportRejected), sqlite_store.session() as session:
        import_stream(session, io.StringIO("\n".join(
            [line(f"n{i}") for i in range(20)] + ["{bad"]) + "\n"), name="big2",
            format_name="jsonl")
    assert _index_names(sqlite_store) == before, "a rejected import restores them too"
    assert "ix_known_signals_type_value" in before
    explain = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN"
    with sqlite_store.session() as session:
        if not sqlite:  # a tiny table: ask whether the index can serve, not whether it is best
            session.connection().exec_driver_sql("SET enable_seqscan = off")
        plan = " ".join(str(r) for r in session.connection().exec_driver_sql(
            f"{explain} SELECT id FROM known_signals WHERE signal_type = 'md5' AND value = 'x'"))
    assert "ix_known_signals_type_value" in plan
