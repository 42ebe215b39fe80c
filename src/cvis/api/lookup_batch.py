"""The compact batch body of hex hashes, parsed and answered as arrays.

``{"signal": "md5", "values": [...]}`` with every value already in its normal form (the
lower-case hex the signal type's validator returns unchanged, of its exact length) is
read without a Python object per value: the values array is found in the raw bytes, its
layout (quotes and separators at a fixed stride) checked with array operations, and the
hex decoded and checked in C (``binascii`` refuses non-hex; no upper-case letter).
Anything else (upper case, spaces, a wrong length,
a non-string, an unusual layout) goes through ``parse_lookup_body``, which normalises or
names the first bad value. The answer is written from a template: each query without a
match is the same bytes around its value, so those rows are filled in one array; queries
with matches are encoded by ``answer_body`` and put in their place.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from numpy.lib.stride_tricks import as_strided

from cvis.api.settings import MAX_HASHES_PER_CALL
from cvis.identify.lookup import encode_matches
from cvis.identify.matcher import MatchColumns, Query

# Signal types whose validator returns lower-case hex of this length unchanged (and
# refuses everything else); tests/test_fast_lookup.py holds them to it.
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
# The values key where only a key can stand: after ``{`` or ``,`` a quote is unescaped,
# and a string cannot close on ``values"`` followed by a colon in valid JSON.
_VALUES_KEY = re.compile(rb'[{,]\s*"values"\s*:\s*\[')
_QUOTE = ord('"')
_UPPER = [bytes([c]) for c in b"ABCDEF"]  # each found by memchr, not a pass per byte
_SPACE = b" \t\r\n"  # JSON's white space
_SEPARATOR = re.compile(rb"[ \t\r\n]*,[ \t\r\n]*")


@dataclass(frozen=True)
class HexBatch:
    signal: str
    ascii: np.ndarray  # (n, length) uint8: the values' characters
    sets: list[str] | None
    raw: bytes = field(repr=False)  # the values decoded, row after row

    def __len__(self) -> int:
        return int(self.ascii.shape[0])

    def value(self, i: int) -> str:
        return self.ascii[i].tobytes().decode("ascii")

    def values(self, rows: np.ndarray | None = None) -> list[str]:
        """The values as text (those of ``rows`` only, if given)."""
        chosen = self.ascii if rows is None else self.ascii[rows]
        text, length = chosen.tobytes().decode("ascii"), self.ascii.shape[1]
        return [text[k:k + length] for k in range(0, len(text), length)]

    def queries(self) -> list[Query]:
        signal = self.signal
        return [Query(signal, v) for v in self.values()]

    def digests(self) -> np.ndarray:
        """The values decoded: (n, length / 2) uint8 rows."""
        return np.frombuffer(self.raw, dtype=np.uint8).reshape(len(self), -1)

    def first(self) -> str:
        """What the audit record names as the first query: ``signal:value``."""
        return f"{self.signal}:{self.value(0)}"


def parse_hex_batch(raw: bytes) -> HexBatch | None:
    """The compact body, if every value is already normal hex of its signal; else None."""
    found = _scan_values(raw)
    if found is not None:
        rest, chars, width = found
        data = _plain_json(rest)
        if data is None or data.get("values") != []:
            return None
        return _checked(data, chars, width)
    data = _plain_json(raw)
    if data is None or not isinstance(data.get("values"), list):
        return None
    values, signal = data["values"], data.get("signal")
    length = HEX_LENGTHS.get(signal) if isinstance(signal, str) else None
    if length is None or not all(type(v) is str for v in values) or \
            set(map(len, values)) != {length}:
        return None
    try:
        chars = "".join(values).encode("ascii")
    except UnicodeEncodeError:
        return None
    return _checked(data, chars, length)


def _plain_json(raw: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data.keys() <= {"signal", "values", "sets"}:
        return None
    return data


def _scan_values(raw: bytes) -> tuple[bytes, bytes, int] | None:
    """The body with its values array emptied, the values' characters joined, and their
    length: when the array is quoted strings of one length, one separator between each
    (a comma, optionally with white space). Else None (the values are parsed as JSON).
    Views of the body, not copies: a copy of megabytes costs its page faults."""
    key = _VALUES_KEY.search(raw)
    if key is None:
        return None
    start, end = key.end(), raw.find(b"]", key.end())
    if end < 0 or raw.find(b'"values"', end) >= 0:  # a second values key: JSON's to decide
        return None
    while start < end and raw[start] in _SPACE:
        start += 1
    last = end
    while last > start and raw[last - 1] in _SPACE:
        last -= 1
    close = raw.find(b'"', start + 1, last)
    after = raw.find(b'"', close + 1, last)
    sep = raw[close + 1:after] if after > 0 else b","
    length, stride = close - start - 1, close - start + 1 + len(sep)
    if raw[start] != _QUOTE or length <= 0 or not _SEPARATOR.fullmatch(sep) or \
            (last - start + len(sep)) % stride:
        return None
    count = (last - start + len(sep)) // stride
    body = np.frombuffer(raw, dtype=np.uint8)
    rows = as_strided(body[start:], (count, length + 2), (stride, 1), writeable=False)
    between = as_strided(body[close + 1:], (count - 1, len(sep)), (stride, 1), writeable=False)
    if not ((rows[:, 0] == _QUOTE).all() and (rows[:, -1] == _QUOTE).all()
            and (between == np.frombuffer(sep, np.uint8)).all()):
        return None
    return raw[:start] + b"]" + raw[end + 1:], rows[:, 1:-1].tobytes(), length


def _checked(data: dict[str, Any], chars: bytes, length: int) -> HexBatch | None:
    """The batch, if the signal is a hex one of this length, the sets a list of names and
    the characters lower-case hex."""
    signal, sets = data.get("signal"), data.get("sets")
    if not isinstance(signal, str) or HEX_LENGTHS.get(signal) != length or not _names(sets):
        return None
    count = len(chars) // length
    if not count or count > MAX_HASHES_PER_CALL:
        return None
    try:
        decoded = binascii.unhexlify(chars)
    except (binascii.Error, ValueError):
        return None
    if any(letter in chars for letter in _UPPER):  # the validator's to normalise
        return None
    ascii_ = np.frombuffer(chars, dtype=np.uint8).reshape(count, length)
    return HexBatch(signal, ascii_, sets, decoded)


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
    block = memoryview(rows.data).cast("B")  # joined once below: no copy of megabytes before
    hit = np.unique(found.queries) if allowed and found is not None else np.zeros(0, np.int64)
    if not hit.size:
        return b"".join((b'{"results":[', block[:-1], b"]}"))
    assert found is not None
    sub = MatchColumns(np.searchsorted(hit, found.queries), found.rows, found.distances,
                       found.facts)
    hits = hit.tolist()
    chosen = ([queries[i] for i in hits] if queries is not None
              else [Query(batch.signal, v) for v in batch.values(hit)])
    encoded = encode_matches(chosen, sub, allowed, suppressed)
    parts: list[bytes | memoryview] = [b'{"results":[']
    start = 0
    for i, row in zip(hits, encoded, strict=True):
        parts += [block[start * width:i * width], row, b","]
        start = i + 1
    parts += [block[start * width:], b"]}"]
    if start == n:  # the last query had matches: drop its comma
        parts[-3] = b""
    else:
        parts[-2] = block[start * width:-1]
    return b"".join(parts)
