"""`cvis lookup`'s JSON lines written from a batch's columns in one compiled pass.

A batch's output is hundreds of MB (2M known hashes, 20,000 queries: 4.1M matches, 500 MB):
each line is the query's opening, its matches and an end, and each match is five byte
strings that are already known before the pass: a comma (not before the first), the set
and media id (one per known item), the signal and distance (one per pair), and the item's
metadata (a handful of distinct values). So every distinct piece is encoded once, with
orjson, and a compiled loop copies them into place (issue 17: the array-pass writer this
replaces spent about as long as the index search).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from cvis.identify.matcher import MatchColumns, Query

# Strings orjson writes as '"' + the text + '"': printable, no quote, no backslash.
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\u2028\u2029]')


def encode_lines(queries: Sequence[Query], found: MatchColumns) -> bytes:
    """One JSON line per query, ``{"query", "signal", "matches": [...]}``, as ``bytes``.

    Identical to ``orjson.dumps`` of the rows ``lookup_lines`` yields, each plus a newline.
    """
    return b"".join(bytes(chunk) for chunk in encode_line_chunks(queries, found,
                                                                 np.empty(0, np.uint8)))


# Bytes of lines written into the buffer at a time: small enough to stay in the cache and
# to be the only output memory (a 5,000-query batch is over 100 MB of lines, and fresh
# memory cost more than the writing: a page fault and a page cleared every 4 KB).
CHUNK_BYTES = 4 << 20


def encode_line_chunks(queries: Sequence[Query], found: MatchColumns, buffer: np.ndarray
                       ) -> Iterator[memoryview]:
    """The lines of ``encode_lines``, whole lines at a time, each chunk a view of ``buffer``
    (uint8; grown only for a line longer than it) valid until the next one is asked for."""
    p = _parts(queries, found)
    sizes = _line_sizes(p.starts, p.id_starts, p.opening, p.per_query, p.rows, p.middles,
                        p.set_of_row, p.tail_of_row)
    ends = np.cumsum(sizes)
    first_hit = np.zeros(len(queries) + 1, np.int64)
    np.cumsum(p.per_query, out=first_hit[1:])
    begin, written = 0, 0
    while begin < len(queries):
        limit = written + max(int(buffer.size), CHUNK_BYTES)
        end = max(begin + 1, int(np.searchsorted(ends, limit, side="right")))
        size = int(ends[end - 1]) - written
        if buffer.size < size:
            buffer = np.empty(max(size, CHUNK_BYTES), np.uint8)
        _fill(buffer, p.blob, p.starts, p.ids, p.id_starts, p.opening, p.per_query, p.rows,
              p.middles, p.set_of_row, p.tail_of_row, begin, end, int(first_hit[begin]))
        yield memoryview(buffer.data)[:size]
        begin, written = end, written + size


@dataclass(frozen=True)
class _Parts:
    """Every distinct piece of a batch's lines joined in ``blob`` (``starts[k]`` to
    ``starts[k+1]``), the media ids likewise, and per hit which pieces it takes."""

    blob: np.ndarray
    starts: np.ndarray
    ids: np.ndarray
    id_starts: np.ndarray
    opening: int  # piece number of query 0's opening
    per_query: np.ndarray
    rows: np.ndarray
    middles: np.ndarray
    set_of_row: np.ndarray
    tail_of_row: np.ndarray


def _parts(queries: Sequence[Query], found: MatchColumns) -> _Parts:
    facts, dumps = found.facts, orjson.dumps
    names = sorted({query.signal for query in queries})
    encoded = {name: dumps(name) for name in names}
    code = {name: n for n, name in enumerate(names)}
    width = int(found.distances.max(initial=0)) + 1
    signal_of = np.fromiter((code[query.signal] for query in queries), np.int64, len(queries))

    pieces: list[bytes] = [b"", b",", b"]}\n"]  # EMPTY, COMMA, END
    opening = len(pieces)
    pieces += [b'{"query":' + dumps(query.value) + b',"signal":' + encoded[query.signal]
               + b',"matches":[' for query in queries]
    middle = len(pieces)
    pieces += [b',"signal":' + encoded[name] + b',"distance":%d' % d
               for name in names for d in range(width)]
    set_head, set_of_row = _distinct_pieces(
        facts.set_name, lambda s: b'{"set":' + dumps(s) + b',"media_id":', len(pieces))
    pieces += set_head
    # types in the key: 1 == True, yet they are written differently
    tail, tail_of_row = _distinct_pieces(
        [(c, type(c), s, v, type(v)) for c, s, v in
         zip(facts.category, facts.series, facts.victim_identified, strict=True)],
        lambda k: b',"category":' + dumps(k[0]) + b',"series":' + dumps(k[2])
        + b',"victim_identified":' + dumps(k[3]) + b"}", len(pieces))
    pieces += tail
    blob, starts = _blob(pieces)
    ids, id_starts = _json_strings(facts.media_id)
    per_query = np.bincount(found.queries, minlength=len(queries)) if found.queries.size \
        else np.zeros(len(queries), np.int64)
    return _Parts(
        blob, starts, ids, id_starts, opening, per_query.astype(np.int64),
        found.rows.astype(np.int64),
        (middle + signal_of[found.queries] * width + found.distances).astype(np.int64),
        set_of_row, tail_of_row)


def _distinct_pieces(values: list[Any], encode: Callable[[Any], bytes], first: int
                     ) -> tuple[list[bytes], np.ndarray]:
    """Each distinct value encoded once, and per value its piece number (from ``first``)."""
    number: dict[object, int] = {}
    of_row = np.fromiter((number.setdefault(v, len(number)) for v in values), np.int64,
                         len(values))
    return [encode(v) for v in number], of_row + first


def _blob(pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Pieces joined into one array, and where each starts (one more: the end)."""
    starts = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, pieces), np.int64, len(pieces)), out=starts[1:])
    return np.frombuffer(b"".join(pieces), np.uint8), starts


def _json_strings(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``orjson.dumps`` of each text, joined, and where each starts: without a call per
    text when none needs escaping (media ids never do in practice)."""
    joined = "".join(texts)
    if not joined.isascii() or _NEEDS_ESCAPE.search(joined):
        return _blob([orjson.dumps(t) for t in texts])
    lengths = np.fromiter(map(len, texts), np.int64, len(texts)) + 2
    starts = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    return np.frombuffer(('"' + '""'.join(texts) + '"').encode("ascii"), np.uint8), starts


@njit(nogil=True, cache=True)
def _line_sizes(starts: np.ndarray, id_starts: np.ndarray, opening: int, per_query: np.ndarray,
                rows: np.ndarray, middles: np.ndarray, set_of_row: np.ndarray,
                tail_of_row: np.ndarray) -> np.ndarray:
    """Bytes of each line ``_fill`` writes."""
    sizes = np.empty(per_query.shape[0], np.int64)
    hit = 0
    for q in range(per_query.shape[0]):
        total = starts[opening + q + 1] - starts[opening + q] + starts[3] - starts[2]
        for k in range(per_query[q]):
            row = rows[hit]
            total += (starts[2] - starts[1]) * (k > 0) \
                + starts[set_of_row[row] + 1] - starts[set_of_row[row]] \
                + id_starts[row + 1] - id_starts[row] \
                + starts[middles[hit] + 1] - starts[middles[hit]] \
                + starts[tail_of_row[row] + 1] - starts[tail_of_row[row]]
            hit += 1
        sizes[q] = total
    return sizes


@njit(nogil=True, cache=True)
def _fill(out: np.ndarray, blob: np.ndarray, starts: np.ndarray, ids: np.ndarray,
          id_starts: np.ndarray, opening: int, per_query: np.ndarray, rows: np.ndarray,
          middles: np.ndarray, set_of_row: np.ndarray, tail_of_row: np.ndarray,
          begin: int, end: int, hit: int) -> None:
    """Copy the pieces of lines ``begin`` to ``end`` (whose first hit is ``hit``) into
    ``out``: opening, matches (comma, set and media id, signal and distance, metadata), end."""
    at = 0
    for q in range(begin, end):
        at = _copy(blob, starts, opening + q, out, at)
        for k in range(per_query[q]):
            row = rows[hit]
            if k > 0:
                at = _copy(blob, starts, 1, out, at)
            at = _copy(blob, starts, set_of_row[row], out, at)
            at = _copy(ids, id_starts, row, out, at)
            at = _copy(blob, starts, middles[hit], out, at)
            at = _copy(blob, starts, tail_of_row[row], out, at)
            hit += 1
        at = _copy(blob, starts, 2, out, at)


@njit(inline="always")
def _copy(blob: np.ndarray, starts: np.ndarray, piece: int, out: np.ndarray, at: int) -> int:
    begin, end = starts[piece], starts[piece + 1]
    _memcpy(out, at, blob, begin, end - begin)
    return at + end - begin


@intrinsic
def _copy_bytes(typingctx, out, at, source, begin, count):
    """``out[at:at + count] = source[begin:begin + count]`` as one memcpy (byte arrays):
    numba's slice copy costs more than the 20-60 bytes it moves."""
    signature = types.void(out, at, source, begin, count)

    def codegen(context, builder, sig, args):
        target = context.make_array(sig.args[0])(context, builder, args[0])
        origin = context.make_array(sig.args[2])(context, builder, args[2])
        cgutils.raw_memcpy(builder, builder.gep(target.data, [args[1]]),
                           builder.gep(origin.data, [args[3]]), args[4], 1)
        return context.get_dummy_value()

    return signature, codegen


_memcpy: Callable[[np.ndarray, int, np.ndarray, int, int], None] = \
    _copy_bytes  # type: ignore[assignment]

