"""The matcher's cached indexes: opened when current, rebuilt when the known signals change.

The cache is keyed by a counter the database's triggers bump on every change to a known
signal (migration 0007_signal_changes), so a hash added after the cache was written is
found by the next lookup, and one removed is not, however the change was written: through
the ORM, plain SQL, a cascade from a deleted media item, or a new row that reuses the
highest id of a deleted one (SQLite reuses it; the id count/max/sum key did not see it).
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete, func, select, text

from cvis.identify import index_cache
from cvis.identify.matcher import Matcher, Query
from cvis.store.db import Store
from cvis.store.models import HashSet, KnownMedia, KnownSignal


def _pdq(rnd: random.Random) -> str:
    return f"{rnd.getrandbits(256):064x}"


def _add(store: Store, set_name: str, media_id: str, value: str) -> None:
    with store.session() as session:
        set_id = session.scalar(select(HashSet.id).where(HashSet.name == set_name))
        media = KnownMedia(set_id=set_id, media_id=media_id, tags=[], extra={})
        media.signals.append(KnownSignal(signal_type="pdq", value=value))
        session.add(media)


def _found(store: Store, value: str) -> list[str]:
    """The media ids a fresh matcher (as a new ``cvis lookup`` makes) gives for a value."""
    with store.session() as session:
        matcher = Matcher(session, ["S"], store.settings.index_dir)
        return [m.media_id for m in matcher.match([Query("pdq", value)])[0]]


@pytest.fixture
def filled(store: Store) -> tuple[Store, list[str]]:
    rnd = random.Random(11)
    values = [_pdq(rnd) for _ in range(400)]
    with store.session() as session:
        session.add(HashSet(name="S", thresholds={"pdq": 31}))
        session.add(HashSet(name="Other", thresholds={"pdq": 31}))
    with store.session() as session:
        set_id = session.scalar(select(HashSet.id).where(HashSet.name == "S"))
        for n, value in enumerate(values):
            media = KnownMedia(set_id=set_id, media_id=f"M{n}", tags=[], extra={})
            media.signals.append(KnownSignal(signal_type="pdq", value=value))
            session.add(media)
    assert _found(store, values[5]) == ["M5"]  # builds and writes the cache
    return store, values


def test_a_current_cache_is_opened_not_rebuilt(
    filled: tuple[Store, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, values = filled
    assert list(store.settings.index_dir.rglob(index_cache.SIGNALS))

    def no_rebuild(*args: object) -> None:
        raise AssertionError("the cache was current: nothing to rebuild")

    monkeypatch.setattr(index_cache, "build_indexes", no_rebuild)
    assert _found(store, values[7]) == ["M7"]
    _add(store, "Other", "X", values[9])  # another set changed: rebuilt, never stale
    monkeypatch.undo()
    assert _found(store, values[9]) == ["M9"]


def test_added_and_removed_hashes_are_seen_by_the_next_lookup(
    filled: tuple[Store, list[str]]
) -> None:
    store, values = filled
    rnd = random.Random(12)
    new = _pdq(rnd)
    assert _found(store, new) == []
    _add(store, "S", "NEW", new)
    assert _found(store, new) == ["NEW"]
    with store.session() as session:  # removed by plain SQL
        session.execute(text("DELETE FROM known_signals WHERE value = :v"), {"v": values[3]})
    assert _found(store, values[3]) == []
    with store.session() as session:  # removed with its media item (a cascade)
        session.execute(delete(KnownMedia).where(KnownMedia.media_id == "M4"))
    assert _found(store, values[4]) == []
    assert _found(store, values[6]) == ["M6"]


def test_a_reused_highest_id_does_not_leave_the_old_hash_matchable(
    filled: tuple[Store, list[str]]
) -> None:
    store, values = filled
    with store.session() as session:
        highest = session.scalar(select(func.max(KnownSignal.id)))
        old = session.scalar(select(KnownSignal.value).where(KnownSignal.id == highest))
        media_pk = session.scalar(select(KnownSignal.media_pk).where(KnownSignal.id == highest))
        session.execute(delete(KnownSignal).where(KnownSignal.id == highest))
    replacement = _pdq(random.Random(13))
    with store.session() as session:  # the same media item's hash, replaced
        session.add(KnownSignal(id=highest, media_pk=media_pk, signal_type="pdq",
                                value=replacement))
    assert old == values[-1]
    assert _found(store, old) == []
    assert _found(store, replacement) == [f"M{len(values) - 1}"]
