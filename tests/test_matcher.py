"""Matching: exact crypto hits, PDQ within the set's threshold, low quality never matched."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cvis.hashsets.errors import UnknownSet
from cvis.identify.matcher import Matcher, Query
from cvis.store.db import Store
from cvis.store.models import HashSet, KnownMedia, KnownSignal

PDQ_BASE = "0f" * 32


def flip_bits(value: str, count: int) -> str:
    """The hash with its lowest ``count`` bits inverted."""
    return f"{int(value, 16) ^ ((1 << count) - 1):064x}"


def add_set(store: Store, name: str, rows: list[tuple[str, str, str]], **kwargs: object) -> None:
    with store.session() as session:
        hash_set = HashSet(name=name, thresholds={}, **kwargs)
        session.add(hash_set)
        session.flush()
        for media_id, signal, value in rows:
            media = KnownMedia(set_id=hash_set.id, media_id=media_id, category=1,
                               series="S", victim_identified=True, tags=[], extra={})
            media.signals.append(KnownSignal(signal_type=signal, value=value))
            session.add(media)


def match_one(store: Store, query: Query, sets: list[str] | None = None) -> list[str]:
    with store.session() as session:
        found = Matcher(session, sets).match([query])[0]
    return [f"{m.set}/{m.media_id}/{m.distance}" for m in found]


def test_crypto_matches_are_exact(store: Store) -> None:
    add_set(store, "A", [("m1", "md5", "a" * 32), ("m2", "sha1", "b" * 40)])
    assert match_one(store, Query("md5", "a" * 32)) == ["A/m1/0"]
    assert match_one(store, Query("md5", "a" * 31 + "b")) == []
    assert match_one(store, Query("sha1", "b" * 40)) == ["A/m2/0"]
    assert match_one(store, Query("sha256", "a" * 64)) == []


def test_pdq_matches_within_threshold_only(store: Store) -> None:
    add_set(store, "A", [("m1", "pdq", PDQ_BASE)])
    assert match_one(store, Query("pdq", flip_bits(PDQ_BASE, 31), 90)) == ["A/m1/31"]
    assert match_one(store, Query("pdq", flip_bits(PDQ_BASE, 32), 90)) == []


def test_low_quality_queries_are_not_matched(store: Store) -> None:
    add_set(store, "A", [("m1", "pdq", PDQ_BASE)])
    assert match_one(store, Query("pdq", PDQ_BASE, 49)) == []
    assert match_one(store, Query("pdq", PDQ_BASE, 50)) == ["A/m1/0"]


def test_per_set_threshold_and_set_choice(store: Store) -> None:
    add_set(store, "strict", [("s1", "pdq", PDQ_BASE)])
    add_set(store, "loose", [("l1", "pdq", PDQ_BASE)])
    with store.session() as session:
        strict = session.scalar(select(HashSet).where(HashSet.name == "strict"))
        assert strict is not None
        strict.thresholds = {"pdq": 10}
    query = Query("pdq", flip_bits(PDQ_BASE, 20), 90)
    assert match_one(store, query) == ["loose/l1/20"]
    assert match_one(store, Query("pdq", flip_bits(PDQ_BASE, 5), 90), ["strict"]) == [
        "strict/s1/5"
    ]


def test_disabled_sets_are_not_matched_unless_named(store: Store) -> None:
    add_set(store, "off", [("m1", "md5", "a" * 32)], enabled=False)
    assert match_one(store, Query("md5", "a" * 32)) == []
    assert match_one(store, Query("md5", "a" * 32), ["off"]) == ["off/m1/0"]


def test_unknown_set_is_an_error(store: Store) -> None:
    with store.session() as session, pytest.raises(UnknownSet, match="nope"):
        Matcher(session, ["nope"])
