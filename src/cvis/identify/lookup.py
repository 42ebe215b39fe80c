"""Look up hashes given as text: one per line, type told by length unless named."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import numpy as np
import orjson

from cvis.identify.matcher import MatchColumns, Matcher, Query
from cvis.signals import guess_crypto_signal, normalize
from cvis.signals.base import InvalidSignalValue

BATCH = 5000


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
    stripped = (line.strip() for line in lines)
    wanted = (line for line in stripped if line and not line.startswith("#"))
    while batch := list(islice(wanted, BATCH)):
        parsed: list[Query | str] = []
        for line in batch:
            try:
                parsed.append(parse_query(line, signal))
            except InvalidSignalValue as exc:
                parsed.append(str(exc))
        queries = [q for q in parsed if isinstance(q, Query)]
        found = iter(matcher.match(queries))
        for line, q in zip(batch, parsed, strict=True):
            if isinstance(q, Query):
                matches = [m.to_dict() for m in next(found)]
                yield {"query": q.value, "signal": q.signal, "matches": matches}
            else:
                yield {"query": line, "signal": signal, "matches": [], "error": q}


def lookup_jsonl(
    matcher: Matcher, lines: Iterable[str], signal: str | None = None
) -> Iterator[tuple[bytes, bool]]:
    """The rows of ``lookup_lines`` as JSON lines (bytes), each with whether it is an error.

    The hot path of ``cvis lookup``: the matches of a batch arrive as columns and are
    written from them, each known item's fields encoded once per batch, not once per hit.
    """
    stripped = (line.strip() for line in lines)
    wanted = (line for line in stripped if line and not line.startswith("#"))
    dumps = orjson.dumps
    while batch := list(islice(wanted, BATCH)):
        parsed: list[Query | str] = []
        for line in batch:
            try:
                parsed.append(parse_query(line, signal))
            except InvalidSignalValue as exc:
                parsed.append(str(exc))
        queries = [q for q in parsed if isinstance(q, Query)]
        encoded = iter(encode_matches(queries, matcher.match_columns(queries)))
        for line, q in zip(batch, parsed, strict=True):
            if isinstance(q, Query):
                yield next(encoded) + b"\n", False
            else:
                row: dict[str, Any] = {"query": line, "signal": signal, "matches": [], "error": q}
                yield dumps(row) + b"\n", True


def encode_matches(
    queries: Sequence[Query], found: MatchColumns,
    may_see: Mapping[str, bool] | None = None,
    suppressed: Collection[tuple[str, str, str]] = (),
) -> list[bytes]:
    """One JSON object per query: ``{"query", "signal", "matches": [MATCH_FIELDS...]}``.

    ``may_see`` and ``suppressed`` shape the matches for an actor exactly as
    ``cvis.hashsets.access.shape_matches`` does (sets not in ``may_see`` left out, their
    metadata emptied where it says False, the agency's own suppressions dropped), here
    per known item and per hit as arrays rather than per match as dictionaries.
    """
    dumps, facts = orjson.dumps, found.facts
    rows, distances, q = found.rows, found.distances, found.queries
    names = sorted({query.signal for query in queries})
    if may_see is not None or suppressed:
        keep = _visible(queries, found, names, may_see, suppressed)
        rows, distances, q = rows[keep], distances[keep], q[keep]
    blank = [may_see is not None and not may_see.get(s, True) for s in facts.set_name]
    heads = [b'{"set":' + dumps(s) + b',"media_id":' + dumps(m) + b',"signal":'
             for s, m in zip(facts.set_name, facts.media_id, strict=True)]
    tails = [_NO_METADATA if hidden else b',"category":' + dumps(c) + b',"series":' + dumps(s)
             + b',"victim_identified":' + dumps(v) + b"}"
             for c, s, v, hidden in zip(facts.category, facts.series, facts.victim_identified,
                                        blank, strict=True)]
    bounds = np.searchsorted(q, np.arange(len(queries) + 1)).tolist()
    row_list, distance_list = rows.tolist(), distances.tolist()
    encoded = {name: dumps(name) for name in names}
    out = []
    for i, query in enumerate(queries):
        name = encoded[query.signal]
        lo, hi = bounds[i], bounds[i + 1]
        mid = name + b',"distance":'
        matches = b",".join([heads[r] + mid + b"%d" % d + tails[r]
                             for r, d in zip(row_list[lo:hi], distance_list[lo:hi], strict=True)])
        out.append(b'{"query":' + dumps(query.value) + b',"signal":' + name + b',"matches":['
                   + matches + b"]}")
    return out


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
