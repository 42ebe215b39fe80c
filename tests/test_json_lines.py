"""`cvis lookup`'s compiled line writer writes exactly what orjson writes of each row."""

from __future__ import annotations

import numpy as np
import orjson

from cvis.identify.json_lines import _json_strings, encode_lines
from cvis.identify.matcher import KnownFacts, MatchColumns, Query

TRICKY = ['plain-1', 'quote"d', "back\\slash", "tab\there", "caf\u00e9", "\u2028sep", ""]


def test_media_ids_are_encoded_as_orjson_does() -> None:
    for texts in (["M1", "M22", "", "x-y_z"], TRICKY):
        blob, starts = _json_strings(texts)
        pieces = [blob[a:b].tobytes() for a, b in zip(starts[:-1], starts[1:], strict=True)]
        assert pieces == [orjson.dumps(t) for t in texts]


def _facts(media_ids: list[str], category: list, series: list, identified: list) -> KnownFacts:
    n = len(media_ids)
    return KnownFacts(pk=list(range(n)), set_name=["A" if k % 2 else "B\u00e9" for k in range(n)],
                      media_id=media_ids, category=category, series=series,
                      victim_identified=identified, signal_ids=np.arange(n),
                      media_row=np.arange(n), signal_set=np.zeros(n, np.int64), sets=[])


def test_lines_equal_orjson_of_each_row_with_lookalike_metadata() -> None:
    # category 1 and identified True are equal in Python (1 == True) but written apart
    ids = TRICKY + ["n1", "n2"]
    category = [1, True, None, 2, 1, None, 0, 1, None]
    identified = [True, 1, None, False, None, True, False, True, None]
    series = [None, "S", "S\u00e9rie", None, "x", "y", None, "S", "\\"]
    facts = _facts(ids, category, series, identified)
    queries = [Query("pdq", "ab" * 32), Query("md5", "0" * 32), Query("pdq", "cd" * 32)]
    hits = [(0, 3, 0), (0, 1, 4), (0, 8, 31), (2, 0, 7), (2, 2, 7), (2, 1, 9)]
    found = MatchColumns(np.array([h[0] for h in hits]), np.array([h[1] for h in hits]),
                         np.array([h[2] for h in hits], np.int32), facts)
    expected = b""
    for number, query in enumerate(queries):
        matches = [{"set": facts.set_name[row], "media_id": ids[row], "signal": query.signal,
                    "distance": distance, "category": category[row], "series": series[row],
                    "victim_identified": identified[row]}
                   for q, row, distance in hits if q == number]
        expected += orjson.dumps({"query": query.value, "signal": query.signal,
                                  "matches": matches}) + b"\n"
    assert encode_lines(queries, found) == expected
    assert b'"category":true' in expected and b'"victim_identified":1' in expected
