"""Look up hashes given as text: one per line, type told by length unless named."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from cvis.identify.matcher import Matcher, Query
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
