"""Sync: a set's versions published as a feed and pulled with a checkpoint, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvis.config import Settings
from cvis.hashsets.feed import FeedError, publish_feed, pull_feed
from cvis.hashsets.service import list_versions
from cvis.store.db import Store
from tests.hashset_helpers import exported, import_lines, line


@pytest.fixture
def remote(tmp_path: Path) -> Store:
    home = tmp_path / "centre"
    store = Store(Settings(home=home, database_url=f"sqlite:///{home / 'centre.db'}"))
    import_lines(store, "national", line("A", category=1), line("B"), line("C"))
    import_lines(store, "national", line("A", category=2), line("B", deleted=True))
    import_lines(store, "national", line("D", series="S"), line("C", deleted=True))
    return store


def test_pull_mirrors_the_set_and_applies_tombstones(store: Store, remote: Store,
                                                     tmp_path: Path) -> None:
    publish = tmp_path / "feed"
    with remote.session() as session:
        publish_feed(session, "national", publish)
    report = pull_feed(store, str(publish))
    assert report.applied == [1, 2, 3]
    assert exported(store, "national") == exported(remote, "national")
    assert exported(store, "national", version=2) == exported(remote, "national", version=2)
    assert pull_feed(store, str(publish)).applied == [], "a second pull has nothing to do"


def test_a_pull_interrupted_mid_version_resumes_after_the_last_applied(
    sqlite_store: Store, remote: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish = tmp_path / "feed"
    with remote.session() as session:
        publish_feed(session, "national", publish)
    real_apply = __import__("cvis.hashsets.writer", fromlist=["VersionWriter"]).VersionWriter.apply
    calls = {"n": 0}

    def crash_in_version_two(self, batch):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("power cut")
        return real_apply(self, batch)

    monkeypatch.setattr("cvis.hashsets.writer.VersionWriter.apply", crash_in_version_two)
    with pytest.raises(KeyboardInterrupt):
        pull_feed(sqlite_store, str(publish))
    with sqlite_store.session() as session:
        assert [v.number for v in list_versions(session, "national")] == [1]
    assert exported(sqlite_store, "national") == exported(remote, "national", version=1)
    monkeypatch.undo()
    assert pull_feed(sqlite_store, str(publish)).applied == [2, 3]
    assert exported(sqlite_store, "national") == exported(remote, "national")


def test_new_versions_are_published_and_pulled_incrementally(
    sqlite_store: Store, remote: Store, tmp_path: Path
) -> None:
    publish = tmp_path / "feed"
    with remote.session() as session:
        publish_feed(session, "national", publish)
    pull_feed(sqlite_store, publish.as_uri())
    import_lines(remote, "national", line("E"))
    with remote.session() as session:
        publish_feed(session, "national", publish)
    assert pull_feed(sqlite_store, publish.as_uri()).applied == [4]
    assert exported(sqlite_store, "national") == exported(remote, "national")


def test_a_tampered_version_file_is_refused_and_nothing_applied(
    sqlite_store: Store, remote: Store, tmp_path: Path
) -> None:
    publish = tmp_path / "feed"
    with remote.session() as session:
        publish_feed(session, "national", publish)
    (publish / "versions" / "000002.jsonl").write_text(line("EVIL") + "\n")
    with pytest.raises(FeedError, match="sha256"):
        pull_feed(sqlite_store, str(publish))
    with sqlite_store.session() as session:
        assert [v.number for v in list_versions(session, "national")] == [1]


def test_something_that_is_not_a_feed_is_refused(sqlite_store: Store, tmp_path: Path) -> None:
    (tmp_path / "feed.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(FeedError, match="not a cvis hash-set feed"):
        pull_feed(sqlite_store, str(tmp_path))
