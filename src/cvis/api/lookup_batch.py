"""The compact batch body of hex hashes, parsed and answered as arrays.

``{"signal": "md5", "values": [...]}`` with every value already in its normal form (the
lower-case hex the signal type's validator returns unchanged, of its exact length) is
checked in a few array operations instead of one validator call per value; anything else
(upper case, spaces, a wrong length, a non-string) goes through ``parse_lookup_body``,
which normalises or names the first bad value. The answer is written from a template:
each query without a match is the same bytes around its value, so those rows are filled
in one array; queries with matches are encoded by ``answer_body`` and put in their place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from cvis.api.settings import MAX_HASHES_PER_CALL
from cvis.identify.lookup import encode_matches
from cvis.identify.matcher import MatchColumns, Query

# Signal types whose validator returns lower-case hex of this length unchanged (and
# refuses everything else); tests/test_fast_lookup.py holds them to it.
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HEX = np.zeros(256, dtype=bool)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = True
_NIBBLE = np.zeros(256, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)


@dataclass(frozen=True)
class HexBatch:
    signal: str
    values: list[str]
    ascii: np.ndarray  # (n, length) uint8: the values' characters
    sets: list[str] | None

    def queries(self) -> list[Query]:
        signal = self.signal
        return [Query(signal, v) for v in self.values]

    def digests(self) -> np.ndarray:
        """The values decoded: (n, length / 2) uint8 rows."""
        nibbles = _NIBBLE[self.ascii]
        digests: np.ndarray = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
        return digests

    def first(self) -> str:
        """What the audit record names as the first query: ``signal:value``."""
        return f"{self.signal}:{self.values[0]}"


def parse_hex_batch(raw: bytes) -> HexBatch | None:
    """The compact body, if every value is already normal hex of its signal; else None."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data.keys() <= {"signal", "values", "sets"}:
        return None
    signal, values, sets = data.get("signal"), data.get("values"), data.get("sets")
    if not isinstance(signal, str) or not isinstance(values, list) or not _names(sets):
        return None
    length = HEX_LENGTHS.get(signal)
    if length is None:
        return None
    if not values or len(values) > MAX_HASHES_PER_CALL:
        return None
    if not all(type(v) is str for v in values) or set(map(len, values)) != {length}:
        return None
    try:
        joined = "".join(values).encode("ascii")
    except UnicodeEncodeError:
        return None
    chars = np.frombuffer(joined, dtype=np.uint8)
    if not _HEX[chars].all():
        return None
    return HexBatch(signal, values, chars.reshape(len(values), length), sets)


def _names(sets: Any) -> bool:
    return sets is None or (isinstance(sets, list) and all(isinstance(s, str) for s in sets))


def answer_hex_batch(batch: HexBatch, queries: list[Query] | None, allowed: dict[str, bool],
                     found: MatchColumns | None,
                     suppressed: frozenset[tuple[str, str, str]]) -> bytes:
    """Byte for byte what ``cvis.api.routes.lookup.answer_body`` writes for these queries
    (whose matcher columns are ``found``, None when no set is allowed); ``queries`` None:
    the batch's own, built here for the queries with matches only."""
    n, length = batch.ascii.shape
    head = b'{"query":"'
    tail = b'","signal":' + orjson.dumps(batch.signal) + b',"matches":[]},'
    width = len(head) + length + len(tail)
    rows = np.empty((n, width), dtype=np.uint8)
    rows[:] = np.frombuffer(head + bytes(length) + tail, dtype=np.uint8)
    rows[:, len(head):len(head) + length] = batch.ascii
    block = rows.tobytes()
    hit = np.unique(found.queries) if allowed and found is not None else np.zeros(0, np.int64)
    if not hit.size:
        return b'{"results":[' + block[:-1] + b"]}"
    assert found is not None
    sub = MatchColumns(np.searchsorted(hit, found.queries), found.rows, found.distances,
                       found.facts)
    hits = hit.tolist()
    chosen = ([queries[i] for i in hits] if queries is not None
              else [Query(batch.signal, batch.values[i]) for i in hits])
    encoded = encode_matches(chosen, sub, allowed, suppressed)
    parts, start = [], 0
    for i, row in zip(hits, encoded, strict=True):
        parts += [block[start * width:i * width], row, b","]
        start = i + 1
    parts.append(block[start * width:])
    return b'{"results":[' + b"".join(parts)[:-1] + b"]}"
