"""UN/EDIFACT PAXLST (API passenger lists) read with pydifact into travellers.

The segments used (PAXLST D02B, the IATA/WCO guide): TDT (flight), LOC+125 / DTM+189
(departure airport and local time), LOC+87 (arrival airport), then per passenger
NAD+FL (crew: FM), ATT+2 (sex), DTM+329 (date of birth), NAT+2 (nationality) and
DOC (travel document number). Local times take the departure airport's time zone.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from typing import Any

from cvis.foreign.manifest import ManifestError, Traveller, make_traveller

_PASSENGER = {"FL", "FM", "DDU", "DDT"}  # passenger, crew, in-transit variants


@cache
def airports() -> dict[str, dict[str, Any]]:
    import airportsdata

    return {k: dict(v) for k, v in airportsdata.load("IATA").items()}


def airport_zone(code: str) -> str | None:
    found = airports().get(code.upper())
    return str(found["tz"]) if found else None


def airport_country(code: str) -> str:
    found = airports().get(code.upper())
    return str(found["country"]) if found else ""


def _separators(text: str) -> tuple[str, str]:
    """Segment terminator and release character (UNA, or the defaults)."""
    if text.startswith("UNA") and len(text) >= 9:
        return text[8], text[6].strip() or "?"
    return "'", "?"


def segment_lines(text: str) -> list[int]:
    """1-based line on which each segment starts, in order."""
    end, release = _separators(text)
    lines, line, start, i = [], 1, True, 0
    if text.startswith("UNA"):
        lines.append(1)
        i, start = 9, True
        line += text.count("\n", 0, 9)
    while i < len(text):
        ch = text[i]
        if start and not ch.isspace():
            lines.append(line)
            start = False
        if ch == "\n":
            line += 1
        elif ch == release:
            i += 1
        elif ch == end:
            start = True
        i += 1
    return lines


def _value(element: Any, pos: int = 0) -> str:
    if isinstance(element, list):
        return str(element[pos]) if pos < len(element) else ""
    return str(element) if pos == 0 else ""


def _el(seg: Any, i: int, pos: int = 0) -> str:
    return _value(seg.elements[i], pos).strip() if i < len(seg.elements) else ""


def _stamp(value: str, fmt: str, where: str) -> datetime:
    patterns = {"201": "%y%m%d%H%M", "203": "%Y%m%d%H%M", "102": "%Y%m%d", "": "%y%m%d%H%M"}
    try:
        return datetime.strptime(value, patterns.get(fmt, "%y%m%d%H%M"))
    except ValueError as exc:
        raise ManifestError(where, f"date/time {value!r} does not fit format {fmt or '201'}"
                            ) from exc


def _birth(value: str, where: str) -> str:
    try:
        if len(value) == 8:
            return datetime.strptime(value, "%Y%m%d").date().isoformat()
        born = datetime.strptime(value, "%y%m%d").date()
    except ValueError as exc:
        raise ManifestError(where, f"date of birth {value!r} is not YYMMDD") from exc
    if born > date.today():
        born = born.replace(year=born.year - 100)
    return born.isoformat()


class _Reader:
    """Walks the segments, keeping the flight context, emitting one row per passenger."""

    def __init__(self, lines: list[int]) -> None:
        self.lines = lines
        self.flight = self.origin = self.arrival = ""
        self.departure: datetime | None = None
        self.loc_qualifier = ""
        self.person: dict[str, str] | None = None
        self.person_where = ""
        self.done: list[Traveller] = []

    def where(self, n: int, tag: str) -> str:
        line = self.lines[n] if n < len(self.lines) else 0
        return f"segment {n + 1} ({tag}), line {line}"

    def finish_person(self) -> None:
        if self.person is None:
            return
        if self.departure is None:
            raise ManifestError(self.person_where, "passenger before any departure DTM+189")
        zone = airport_zone(self.origin) if self.origin else None
        if self.origin and zone is None:
            raise ManifestError(self.person_where, f"unknown departure airport {self.origin!r}")
        row = dict(self.person)
        row["departure_at"] = self.departure.isoformat()
        row["destination"] = airport_country(self.arrival) or self.arrival
        row["flight"] = self.flight
        row["departure_airport"], row["arrival_airport"] = self.origin, self.arrival
        self.done.append(make_traveller(row, self.person_where, zone))
        self.person = None

    def segment(self, n: int, seg: Any) -> None:
        tag, where = seg.tag, self.where(n, seg.tag)
        if tag == "TDT":
            self.finish_person()
            self.flight = _el(seg, 1)
        elif tag == "LOC":
            self.loc_qualifier = _el(seg, 0)
            if self.person is None and self.loc_qualifier == "125":
                self.origin = _el(seg, 1)
            elif self.person is None and self.loc_qualifier == "87":
                self.arrival = _el(seg, 1)
        elif tag == "DTM":
            self.dtm(seg, where)
        elif tag == "NAD" and _el(seg, 0) in _PASSENGER:
            self.finish_person()
            self.nad(seg, where)
        elif self.person is not None:
            self.details(tag, seg)
        elif tag in ("UNT", "CNT"):
            self.finish_person()

    def dtm(self, seg: Any, where: str) -> None:
        qualifier, value, fmt = _el(seg, 0, 0), _el(seg, 0, 1), _el(seg, 0, 2)
        if qualifier == "189" and self.person is None:
            self.departure = _stamp(value, fmt, where)
        elif qualifier == "329" and self.person is not None:
            self.person["dob"] = _birth(value, where)

    def nad(self, seg: Any, where: str) -> None:
        name = seg.elements[3] if len(seg.elements) > 3 else ""
        family, given = _value(name, 0).strip(), " ".join(
            _value(name, i).strip() for i in (1, 2) if _value(name, i).strip())
        if not family:
            raise ManifestError(where, "passenger NAD without a family name")
        self.person = {"given_names": given, "family_name": family, "dob": "", "sex": "",
                       "nationality": "", "passport_number": ""}
        self.person_where = where

    def details(self, tag: str, seg: Any) -> None:
        assert self.person is not None
        if tag == "ATT" and _el(seg, 0) == "2":
            self.person["sex"] = _el(seg, 2, 0)
        elif tag == "NAT":
            self.person["nationality"] = _el(seg, 1)
        elif tag == "DOC" and not self.person["passport_number"]:
            self.person["passport_number"] = _el(seg, 1)


def read_paxlst(text: str) -> Iterator[Traveller]:
    """Every passenger of every PAXLST message in the interchange."""
    from pydifact.exceptions import EDISyntaxError
    from pydifact.segmentcollection import RawSegmentCollection

    lines = segment_lines(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            collection = RawSegmentCollection.from_str(text)
    except EDISyntaxError as exc:
        raise ManifestError(f"segment {len(lines)}, line {lines[-1] if lines else 1}",
                            f"EDIFACT syntax error: {exc}") from exc
    segments = list(collection.segments)
    if not any(s.tag == "UNH" for s in segments):
        raise ManifestError("segment 1, line 1", "no UNH message header: not a PAXLST")
    reader = _Reader(lines)
    for n, seg in enumerate(segments):
        if not seg.tag.isalpha() or len(seg.tag) != 3:
            raise ManifestError(reader.where(n, seg.tag[:3]), f"not a segment tag {seg.tag!r}")
        reader.segment(n, seg)
    reader.finish_person()
    yield from reader.done
