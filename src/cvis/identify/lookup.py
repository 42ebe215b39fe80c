"""Look up hashes given as text: one per line, type told by length unless named."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import orjson

from cvis.identify.json_lines import CHUNK_BYTES, encode_line_chunks
from cvis.identify.matcher import MATCH_FIELDS, MatchColumns, Matcher, Query
from cvis.signals import guess_crypto_signal, normalize
from cvis.signals.base import InvalidSignalValue

# Lines looked up together: each batch reads its known items' facts and encodes their
# fragments once, so fewer, larger batches cost less (memory grows with a batch's hits).
BATCH = 20_000
# Lines per batch of ``lookup_jsonl``, whose batches are matched and encoded in step: small
# enough that the stages overlap, large enough that per-batch costs stay small.
PIPELINED_BATCH = 5_000


def parse_query(line: str, signal: str | None) -> Query:
    name = signal or guess_crypto_signal(line)
    return Query(name, normalize(name, line))


_HEADER = re.compile(r"[A-Za-z_][\w .,;\t-]*")
_HEX = re.compile(r"[0-9a-fA-F]+")


def looks_like_header(line: str, signal: str | None = None) -> bool:
    """A column name (`md5`, `sha256,path`) rather than a hash: not a hash, words not hex."""
    text = line.strip()
    if not text or text.startswith("#"):
        return False
    try:
        parse_query(text, signal)
        return False
    except InvalidSignalValue:
        return bool(_HEADER.fullmatch(text)) and not _HEX.fullmatch(text)


def lookup_lines(
    matcher: Matcher, lines: Iterable[str], signal: str | None = None
) -> Iterator[dict[str, Any]]:
    """One result row per non-blank line; a malformed line gets an ``error`` and no matches."""
    for batch, parsed, queries in _parsed_batches(lines, signal, BATCH):
        found = iter(matcher.match(queries))
        for line, q in zip(batch, parsed, strict=True):
            if isinstance(q, Query):
                matches = [m.to_dict() for m in next(found)]
                yield {"query": q.value, "signal": q.signal, "matches": matches}
            else:
                yield {"query": line, "signal": signal, "matches": [], "error": q}


def lookup_jsonl(matcher: Matcher, lines: Iterable[str], signal: str | None,
                 write: Callable[[memoryview | bytes], object]) -> int:
    """The rows of ``lookup_lines`` as JSON lines, handed to ``write`` a chunk of whole
    lines at a time (a view valid only during the call); returns how many lines were errors
    (malformed hashes, kept in place).

    The hot path of ``cvis lookup``: the matches of a batch arrive as columns and are
    written from them (``encode_line_chunks``), each known item's fields encoded once per
    batch. A batch is encoded and written by a second thread while the next one is matched
    (the index search, the compiled writer and the file write release the GIL), so neither
    core waits on the other's stage; the lines pass through one small buffer, reused.
    """
    buffer = np.empty(CHUNK_BYTES, np.uint8)
    errors = 0
    with ThreadPoolExecutor(1, thread_name_prefix="cvis-encode") as encoder:
        pending: Future[int] | None = None
        for batch, parsed, queries in _parsed_batches(lines, signal, PIPELINED_BATCH):
            found = matcher.match_columns(queries)  # here: the store's session is this thread's
            if pending is not None:
                errors += pending.result()  # one batch ahead at most, and its errors raised
            pending = encoder.submit(_write_batch, batch, parsed, queries, found, signal,
                                     buffer, write)
        if pending is not None:
            errors += pending.result()
    return errors


def _parsed_batches(lines: Iterable[str], signal: str | None, size: int
                    ) -> Iterator[tuple[list[str], list[Query | str], list[Query]]]:
    """Non-blank, non-comment lines ``size`` at a time: the lines, each parsed (a Query, or
    the error that says why it is not a hash), and the Queries alone."""
    stripped = (line.strip() for line in lines)
    wanted = (line for line in stripped if line and not line.startswith("#"))
    while batch := list(islice(wanted, size)):
        parsed: list[Query | str] = []
        for line in batch:
            try:
                parsed.append(parse_query(line, signal))
            except InvalidSignalValue as exc:
                parsed.append(str(exc))
        yield batch, parsed, [q for q in parsed if isinstance(q, Query)]


def _write_batch(batch: list[str], parsed: list[Query | str], queries: list[Query],
                 found: MatchColumns, signal: str | None, buffer: np.ndarray,
                 write: Callable[[memoryview | bytes], object]) -> int:
    if len(queries) == len(batch):
        for chunk in encode_line_chunks(queries, found, buffer):
            write(chunk)
        return 0
    encoded = iter(encode_matches(queries, found))
    out = []
    for line, q in zip(batch, parsed, strict=True):
        if isinstance(q, Query):
            out.append(next(encoded) + b"\n")
        else:
            row: dict[str, Any] = {"query": line, "signal": signal, "matches": [], "error": q}
            out.append(orjson.dumps(row) + b"\n")
    write(b"".join(out))
    return len(batch) - len(queries)


def encode_matches(
    queries: Sequence[Query], found: MatchColumns,
    may_see: Mapping[str, bool] | None = None,
    suppressed: Collection[tuple[str, str, str]] = (),
) -> list[bytes]:
    """One JSON object per query: ``{"query", "signal", "matches": [MATCH_FIELDS...]}``.

    ``may_see`` and ``suppressed`` shape the matches for an actor exactly as
    ``cvis.hashsets.access.shape_matches`` does (sets not in ``may_see`` left out, their
    metadata emptied where it says False, the agency's own suppressions dropped), here
    per known item and per hit as arrays rather than per match as dictionaries; a few
    queries (the service's single lookups) as dictionaries, which is cheaper there.
    """
    if len(queries) <= FEW_QUERIES:
        return _encode_each(queries, found, may_see, suppressed)
    return _encode_columns(queries, found, may_see, suppressed)


# Up to this many queries the per-match dictionaries cost less than the arrays' set-up.
FEW_QUERIES = 16


def _encode_each(
    queries: Sequence[Query], found: MatchColumns, may_see: Mapping[str, bool] | None,
    suppressed: Collection[tuple[str, str, str]],
) -> list[bytes]:
    """``encode_matches`` one match at a time: the same bytes (tests hold them equal)."""
    facts = found.facts
    matches: list[list[dict[str, Any]]] = [[] for _ in queries]
    for q, row, distance in zip(found.queries.tolist(), found.rows.tolist(),
                                found.distances.tolist(), strict=True):
        name, media_id, signal = facts.set_name[row], facts.media_id[row], queries[q].signal
        if (may_see is not None and name not in may_see) or (
                suppressed and (name, media_id, signal) in suppressed):
            continue
        if may_see is not None and not may_see[name]:
            metadata: tuple[Any, ...] = (None, None, None)
        else:
            metadata = (facts.category[row], facts.series[row], facts.victim_identified[row])
        matches[q].append(dict(zip(MATCH_FIELDS, (name, media_id, signal, distance, *metadata),
                                   strict=True)))
    return [orjson.dumps({"query": query.value, "signal": query.signal, "matches": found_})
            for query, found_ in zip(queries, matches, strict=True)]


def _encode_columns(
    queries: Sequence[Query], found: MatchColumns, may_see: Mapping[str, bool] | None,
    suppressed: Collection[tuple[str, str, str]],
) -> list[bytes]:
    pieces, starts = _pieces(_fragments(queries, found, may_see, suppressed), b"]}")
    bounds = starts.tolist()
    return [b"".join(pieces[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


@dataclass(frozen=True)
class _Fragments:
    """Every fragment of a batch's output encoded once, and per hit which ones it takes:
    per known item its head (set, media id; ``heads[count:]`` with the comma that
    follows a previous match) and its tail (metadata); per (signal, distance) a middle;
    per query its opening. Hits are in output order (by query, then rank)."""

    heads: list[bytes]
    tails: list[bytes]
    middles: list[bytes]
    openings: list[bytes]
    queries: np.ndarray  # per hit: query number
    rows: np.ndarray  # per hit: known item row (its head and tail)
    middle: np.ndarray  # per hit: middle number
    local: np.ndarray  # per hit: rank within its query
    per_query: np.ndarray  # hits per query


def _fragments(
    queries: Sequence[Query], found: MatchColumns, may_see: Mapping[str, bool] | None,
    suppressed: Collection[tuple[str, str, str]],
) -> _Fragments:
    dumps, facts = orjson.dumps, found.facts
    rows, distances, q = found.rows, found.distances, found.queries
    names = sorted({query.signal for query in queries})
    if may_see is not None or suppressed:
        keep = _visible(queries, found, names, may_see, suppressed)
        rows, distances, q = rows[keep], distances[keep], q[keep]
    blank = [may_see is not None and not may_see.get(s, True) for s in facts.set_name]
    heads = [b'{"set":' + dumps(s) + b',"media_id":' + dumps(m) + b',"signal":'
             for s, m in zip(facts.set_name, facts.media_id, strict=True)]
    tails = [
        _NO_METADATA if hidden else b',"category":' + dumps(c) + b',"series":' + dumps(s)
        + b',"victim_identified":' + dumps(v) + b"}"
        for c, s, v, hidden in zip(facts.category, facts.series, facts.victim_identified,
                                   blank, strict=True)]
    width = int(distances.max(initial=0)) + 1
    encoded = {name: dumps(name) for name in names}
    code = {name: n for n, name in enumerate(names)}
    signal_of = np.fromiter((code[query.signal] for query in queries), np.int64, len(queries))
    per_query = np.bincount(q, minlength=len(queries)) if q.size else \
        np.zeros(len(queries), np.int64)
    first_hit = np.zeros(len(queries) + 1, dtype=np.int64)
    np.cumsum(per_query, out=first_hit[1:])
    return _Fragments(
        heads=heads + [b"," + head for head in heads],
        tails=tails,
        middles=[encoded[name] + b',"distance":%d' % d for name in names for d in range(width)],
        openings=[b'{"query":' + dumps(query.value) + b',"signal":' + encoded[query.signal]
                  + b',"matches":[' for query in queries],
        queries=q, rows=rows, middle=signal_of[q] * width + distances,
        local=np.arange(q.size, dtype=np.int64) - first_hit[q],
        per_query=per_query,
    )


def _pieces(parts: _Fragments, end: bytes) -> tuple[list[bytes], np.ndarray]:
    """The output as a list of fragment objects to join, and where each query's begin:
    a hit is three references, placed by array operations (no Python work per hit)."""
    count, q, local = len(parts.tails), parts.queries, parts.local
    starts = np.zeros(len(parts.openings) + 1, dtype=np.int64)
    np.cumsum(2 + 3 * parts.per_query, out=starts[1:])
    pieces = np.empty(int(starts[-1]), dtype=object)
    pieces[starts[:-1]] = _objects(parts.openings)
    pieces[starts[1:] - 1] = end
    if q.size:
        at = starts[q] + 1 + 3 * local
        pieces[at] = _objects(parts.heads)[parts.rows + count * (local > 0)]
        pieces[at + 1] = _objects(parts.middles)[parts.middle]
        pieces[at + 2] = _objects(parts.tails)[parts.rows]
    return pieces.tolist(), starts


def _objects(items: list[bytes]) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


_NO_METADATA = b',"category":null,"series":null,"victim_identified":null}'


def _visible(queries: Sequence[Query], found: MatchColumns, names: list[str],
             may_see: Mapping[str, bool] | None,
             suppressed: Collection[tuple[str, str, str]]) -> np.ndarray:
    facts = found.facts
    code = {name: n for n, name in enumerate(names)}
    shown = np.array([may_see is None or s in may_see for s in facts.set_name] or [True])
    hidden = np.zeros((max(1, len(facts.pk)), len(names)), dtype=bool)
    if suppressed:
        for row, (s, m) in enumerate(zip(facts.set_name, facts.media_id, strict=True)):
            for name in names:
                hidden[row, code[name]] = (s, m, name) in suppressed
    signal_of = np.fromiter((code[query.signal] for query in queries), np.int64, len(queries))
    keep: np.ndarray = shown[found.rows] & ~hidden[found.rows, signal_of[found.queries]]
    return keep
