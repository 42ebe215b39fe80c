"""What a scan is given: evidence paths and object-store URIs, named on the command line or
listed in a file (one a line), each checked before anything is scanned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cvis.media.folders import EvidencePath
from cvis.media.objects import ObjectStoreError, check_uri, exists, is_uri, safe_uri

SHOWN_PROBLEMS = 20
CHECKS_IN_FLIGHT = 16


@dataclass(frozen=True)
class Source:
    """One piece of evidence as the user named it; ``line``: where in the list file."""

    text: str
    line: int | None = None

    @property
    def where(self) -> str:
        shown = safe_uri(self.text) if is_uri(self.text) else self.text
        return f"line {self.line}: {shown}" if self.line is not None else shown

    def evidence(self) -> EvidencePath:
        """A URI stays text (a Path would fold its ``//``); anything else is a local path."""
        return self.text if is_uri(self.text) else Path(self.text)


def read_list(lines: Iterable[str]) -> list[Source]:
    """The entries of a list file: one path or URI a line, surrounding blanks dropped;
    blank lines and lines starting with ``#`` skipped."""
    entries = []
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if text and not text.startswith("#"):
            entries.append(Source(text, number))
    return entries


def _problem(source: Source) -> str | None:
    if not is_uri(source.text):
        return None if Path(source.text).exists() else "not found"
    try:
        check_uri(source.text)
        return None if exists(source.text) else "no object or prefix there"
    except ObjectStoreError as exc:
        return str(exc)


def check_sources(sources: list[Source]) -> list[str]:
    """What is wrong with each bad entry, in order: a path that does not exist, a URI that
    is malformed, carries credentials, names nothing, or whose store cannot be reached."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(CHECKS_IN_FLIGHT) as pool:  # a URI's check is a round trip
        found = list(pool.map(_problem, sources))
    return [f"{s.where}: {problem}" for s, problem in zip(sources, found, strict=True)
            if problem is not None]


def describe_problems(problems: list[str]) -> str:
    """The bad entries for an error message: the first few, and how many more."""
    shown = problems[:SHOWN_PROBLEMS]
    more = len(problems) - len(shown)
    tail = [f"... and {more} more"] if more else []
    return "\n".join(["evidence that cannot be scanned (nothing was scanned):",
                      *(f"  {p}" for p in shown), *tail])
