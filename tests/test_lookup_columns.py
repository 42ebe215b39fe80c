"""The columnar lookup path gives what a plain per-hit reading of the store gives.

A reference written the slow, obvious way (every known signal of the chosen sets compared
with every query, judged at its set's threshold, suppressions dropped, nearest value per
media item, sorted by distance, set and media id) is compared with ``cvis lookup``'s JSON
lines and with ``Matcher.match`` on a small structured set: clusters of near-duplicates,
media items with several values, two sets with different thresholds, a suppressed value.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from cvis.hashsets.access import shape_matches
from cvis.hashsets.feedback import suppress
from cvis.identify import json_lines, lookup
from cvis.identify.json_lines import encode_lines
from cvis.identify.lookup import _encode_columns, _encode_each, encode_matches, lookup_jsonl
from cvis.identify.matcher import Matcher, Query, set_threshold
from cvis.signals import SIGNAL_TYPES
from cvis.store.db import Store
from cvis.store.models import HashSet, KnownMedia, KnownSignal


def _flip(value: str, bits: int, rnd: random.Random) -> str:
    number = int(value, 16)
    for bit in rnd.sample(range(256), bits):
        number ^= 1 << bit
    return f"{number:064x}"


def _fill(store: Store) -> tuple[list[str], str]:
    """Two sets over shared cluster centres; returns the centres and a suppressed value."""
    rnd = random.Random(5)
    centres = [f"{rnd.getrandbits(256):064x}" for _ in range(6)]
    suppressed = ""
    with store.session() as session:
        for name, thresholds, count in (("A", {"pdq": 31}, 120), ("B", {"pdq": 12}, 60)):
            hash_set = HashSet(name=name, thresholds=thresholds)
            session.add(hash_set)
            session.flush()
            for n in range(count):
                media = KnownMedia(set_id=hash_set.id, media_id=f"{name}{n % 97}-{n}",
                                   category=n % 3 or None, series="S\u00e9rie" if n % 4 else None,
                                   victim_identified=[True, False, None][n % 3], tags=[],
                                   extra={})
                for _ in range(1 + n % 3):  # up to three values per media item
                    value = _flip(centres[n % 6], rnd.randint(0, 24), rnd)
                    media.signals.append(KnownSignal(signal_type="pdq", value=value))
                media.signals.append(KnownSignal(signal_type="md5",
                                                 value=f"{n % 7:032x}"))
                session.add(media)
            session.flush()
            if name == "A":
                suppressed = media.signals[0].value
                suppress(session, hash_set.id, "pdq", suppressed, "test")
    return centres, suppressed


def _reference(store: Store, queries: list[Query]) -> list[list[dict[str, Any]]]:
    with store.session() as session:
        sets = {s.id: s for s in session.scalars(select(HashSet))}
        known = session.execute(select(KnownSignal, KnownMedia).join(KnownMedia)).all()
        out = []
        for query in queries:
            signal_type = SIGNAL_TYPES[query.signal]
            best: dict[int, dict[str, Any]] = {}
            for signal, media in known:
                hash_set = sets[media.set_id]
                if signal.signal_type != query.signal or (
                        hash_set.name == "A" and signal.value == _SUPPRESSED[0]):
                    continue
                distance = signal_type.distance(query.value, signal.value)
                if not signal_type.allows(query, distance, set_threshold(hash_set, query.signal)):
                    continue
                if media.id not in best or distance < best[media.id]["distance"]:
                    best[media.id] = {
                        "set": hash_set.name, "media_id": media.media_id,
                        "signal": query.signal, "distance": distance,
                        "category": media.category, "series": media.series,
                        "victim_identified": media.victim_identified,
                    }
            out.append(sorted(best.values(),
                              key=lambda m: (m["distance"], m["set"], m["media_id"])))
        return out


_SUPPRESSED = [""]


def test_columnar_lookup_equals_the_per_hit_reference(store: Store) -> None:
    centres, _SUPPRESSED[0] = _fill(store)
    rnd = random.Random(9)
    queries = [Query("pdq", _flip(centres[k % 6], rnd.randint(0, 40), rnd)) for k in range(40)]
    queries += [Query("pdq", _flip(centres[0], 5, rnd), quality, contrast)
                for quality, contrast in ((90, None), (30, 80), (30, 5), (60, 0))]
    queries += [Query("pdq", f"{rnd.getrandbits(256):064x}"), Query("pdq", "0" * 64),
                Query("md5", f"{3:032x}"), Query("md5", "f" * 32), Query("sha1", "a" * 40)]
    expected = _reference(store, queries)
    assert sum(map(len, expected)) > 200  # the set is crowded enough to say something
    with store.session() as session:
        matcher = Matcher(session)
        found = matcher.match_columns(queries)
        lines = encode_matches(queries, found)
        objects = matcher.match(queries)
    assert encode_lines(queries, found) == b"".join(line + b"\n" for line in lines)
    got = [orjson.loads(line) for line in lines]
    assert [row["matches"] for row in got] == expected
    assert [(row["query"], row["signal"]) for row in got] == [(q.value, q.signal)
                                                             for q in queries]
    as_dicts = [[m.to_dict() for m in per_query] for per_query in objects]
    assert as_dicts == expected


def test_lookup_lines_keep_errors_in_place(store: Store) -> None:
    _fill(store)
    written: list[bytes] = []
    with store.session() as session:
        failed = lookup_jsonl(Matcher(session), [f"{3:032x}", "zz", "", f"{4:032x}"], None,
                              lambda chunk: written.append(bytes(chunk)))
    assert failed == 1 and len(written) == 1
    parsed = [orjson.loads(line) for line in written[0].splitlines()]
    assert len(parsed) == 3 and written[0].endswith(b"\n")
    assert parsed[1]["matches"] == [] and "error" in parsed[1]
    assert {m["media_id"] for m in parsed[0]["matches"]} and all(
        m["signal"] == "md5" for m in parsed[2]["matches"])


def test_shaping_from_columns_equals_shape_matches(store: Store) -> None:
    centres, _SUPPRESSED[0] = _fill(store)
    rnd = random.Random(3)
    queries = [Query("pdq", _flip(centres[k % 6], rnd.randint(0, 20), rnd)) for k in range(12)]
    queries.append(Query("md5", f"{2:032x}"))
    expected = _reference(store, queries)
    suppressed = {("B", m["media_id"], m["signal"]) for per_query in expected
                  for m in per_query[:2] if m["set"] == "B"}
    assert suppressed
    may_see = {"A": False, "B": True}
    with store.session() as session:
        found = Matcher(session).match_columns(queries)
    for sets in (may_see, {"B": True}):
        got = [orjson.loads(line)["matches"]
               for line in encode_matches(queries, found, sets, suppressed)]
        assert got == [shape_matches(per_query, sets, suppressed) for per_query in expected]


def test_few_queries_are_encoded_as_many_are(store: Store) -> None:
    """The service's single lookups take the per-match encoder: byte for byte the arrays'."""
    centres, _SUPPRESSED[0] = _fill(store)
    rnd = random.Random(5)
    queries = [Query("pdq", _flip(centres[k % 6], rnd.randint(0, 30), rnd)) for k in range(20)]
    queries += [Query("md5", f"{2:032x}"), Query("md5", "f" * 32)]
    with store.session() as session:
        found = Matcher(session).match_columns(queries)
    assert found.queries.size > 20
    suppressed = {(found.facts.set_name[r], found.facts.media_id[r], "pdq")
                  for r in found.rows[:3].tolist()}
    for may_see, hidden in ((None, ()), ({"A": False, "B": True}, suppressed), ({"B": True}, ())):
        assert _encode_each(queries, found, may_see, hidden) == \
            _encode_columns(queries, found, may_see, hidden)


def test_batches_matched_and_encoded_in_step_give_one_batch_s_lines(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small batches (pipelined, some with a malformed line) and many small chunks of
    lines through one reused buffer give byte for byte the lines of one batch written whole,
    each chunk read during its write call as a file reads it."""
    centres, _SUPPRESSED[0] = _fill(store)
    rnd = random.Random(11)
    lines = [_flip(centres[k % 6], rnd.randint(0, 30), rnd) for k in range(23)]
    lines[9] = "not a hash"

    def run(matcher: Matcher) -> tuple[list[bytes], int]:
        chunks: list[bytes] = []
        failed = lookup_jsonl(matcher, lines, "pdq", lambda chunk: chunks.append(bytes(chunk)))
        return chunks, failed

    with store.session() as session:
        matcher = Matcher(session)
        whole, whole_failed = run(matcher)
        monkeypatch.setattr(lookup, "PIPELINED_BATCH", 3)
        monkeypatch.setattr(json_lines, "CHUNK_BYTES", 200)  # a line or two a chunk
        monkeypatch.setattr(lookup, "CHUNK_BYTES", 200)
        chunks, failed = run(matcher)
    assert len(whole) == 1 and whole_failed == failed == 1
    assert len(chunks) > 8 and b"".join(chunks) == whole[0]
    assert whole[0].count(b"\n") == 23 and b'"error"' in whole[0]
    assert all(chunk.endswith(b"\n") for chunk in chunks)  # whole lines only
