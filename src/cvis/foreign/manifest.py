"""Passenger manifests in: UN/EDIFACT PAXLST (pydifact), CSV and JSON, to one traveller shape.

Every format reads into the same `Traveller` (the CSV columns of the contract plus where
the row came from). A manifest is read whole before anything is kept: one malformed
line or segment refuses it all, naming the line (and segment) so it can be fixed.
Departure times always carry a time zone: an explicit offset, a zone name, or (PAXLST)
the departure airport's zone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMATS = ("auto", "paxlst", "csv", "json")
COLUMNS = ("given_names", "family_name", "dob", "sex", "nationality", "passport_number",
           "departure_at", "destination", "flight")
REQUIRED = ("family_name", "departure_at")
_SEX = {"m": "M", "male": "M", "f": "F", "female": "F", "x": "X", "u": "X"}


class ManifestError(ValueError):
    """The manifest is malformed; `where` names the line (and segment) at fault."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


@dataclass(frozen=True)
class Traveller:
    """One passenger: the manifest row's fields, and the departure time with its zone."""

    fields: dict[str, str]
    departure_at: datetime
    destination: str
    where: str  # "line 3" or "segment 12 (NAD), line 12"
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What makes two rows the same traveller on the same departure (duplicates)."""
        f = self.fields
        parts = (f.get("passport_number", "").upper() or
                 f"{f.get('family_name', '').lower()}|{f.get('given_names', '').lower()}"
                 f"|{f.get('dob', '')}", self.departure_at.isoformat(), f.get("flight", ""))
        return "|".join(parts)


@dataclass
class Manifest:
    format: str
    sha256: str
    travellers: list[Traveller] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # where each duplicate row was


# ---------------------------------------------------------------------- shared checks


def parse_departure(text: str, where: str, zone: str | None = None) -> tuple[datetime, str]:
    """An ISO 8601 time with an offset or a trailing zone name ("... Europe/Paris");
    without either, `zone` (the departure airport's) or UTC with a note."""
    value = text.strip()
    name = None
    if " " in value and "/" in value.rsplit(" ", 1)[1]:
        value, name = value.rsplit(" ", 1)
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ManifestError(where, f"departure_at {text!r} is not an ISO 8601 time") from exc
    if stamp.tzinfo is not None:
        return stamp, ""
    tz_name = name or zone
    if tz_name:
        try:
            return stamp.replace(tzinfo=ZoneInfo(tz_name)), ""
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ManifestError(where, f"unknown time zone {tz_name!r}") from exc
    return stamp.replace(tzinfo=UTC), "departure time had no time zone; read as UTC"


def _check_dob(value: str, where: str) -> str:
    if not value:
        return ""
    try:
        born = date.fromisoformat(value)
    except ValueError as exc:
        raise ManifestError(where, f"dob {value!r} is not a date (YYYY-MM-DD)") from exc
    if born.year < 1900 or born > date.today():
        raise ManifestError(where, f"dob {value!r} is out of range")
    return value


def _check_sex(value: str, where: str) -> str:
    if not value:
        return ""
    code = _SEX.get(value.strip().lower())
    if code is None:
        raise ManifestError(where, f"sex {value!r} is not M, F or X")
    return code


def make_traveller(row: dict[str, Any], where: str, zone: str | None = None) -> Traveller:
    """Check one row's fields and build the traveller; raises ManifestError."""
    fields = {k: ("" if v is None else str(v).strip()) for k, v in row.items()}
    for name in REQUIRED:
        if not fields.get(name):
            raise ManifestError(where, f"{name} is missing")
    fields["dob"] = _check_dob(fields.get("dob", ""), where)
    fields["sex"] = _check_sex(fields.get("sex", ""), where)
    departure, note = parse_departure(fields["departure_at"], where, zone)
    return Traveller(fields, departure, fields.get("destination", "").upper(), where,
                     (note,) if note else ())


def _collect(fmt: str, raw: bytes, travellers: Iterable[Traveller]) -> Manifest:
    manifest = Manifest(fmt, hashlib.sha256(raw).hexdigest())
    seen: set[str] = set()
    for t in travellers:
        if t.key in seen:
            manifest.duplicates.append(t.where)
            continue
        seen.add(t.key)
        manifest.travellers.append(t)
    return manifest


# ---------------------------------------------------------------------- CSV and JSON


def read_csv(text: str) -> Iterable[Traveller]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ManifestError("line 1", f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    out = []
    for row in reader:
        where = f"line {reader.line_num}"
        if None in row or any(v is None for v in row.values()):
            raise ManifestError(where, f"expected {len(header)} fields")
        out.append(make_traveller(row, where))
    return out


def read_json(text: str) -> Iterable[Traveller]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from exc
    rows = doc.get("travellers") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise ManifestError("line 1", "expected a list of travellers (or {\"travellers\": [...]})")
    lines = _json_item_lines(text, len(rows))
    out = []
    for i, row in enumerate(rows):
        where = f"traveller {i + 1}, line {lines[i]}"
        if not isinstance(row, dict):
            raise ManifestError(where, "a traveller must be an object")
        out.append(make_traveller(row, where))
    return out


def _json_item_lines(text: str, count: int) -> list[int]:
    """Line on which each top-level traveller object starts (best effort, for messages)."""
    starts = [m.start() for m in re.finditer(r"\{", text)]
    if text.lstrip().startswith("{"):
        starts = starts[1:]
    # objects nest rarely in a manifest; take the first `count` openings that follow a
    # comma or a bracket
    heads = [s for s in starts if text[:s].rstrip()[-1:] in ("[", ",")][:count]
    lines = [text.count("\n", 0, s) + 1 for s in heads]
    return lines + [0] * (count - len(lines))


# ---------------------------------------------------------------------- reading any


def detect(raw: bytes, path: Path | None = None) -> str:
    head = raw.lstrip()[:3]
    if head.startswith((b"UNA", b"UNB")):
        return "paxlst"
    if head[:1] in (b"[", b"{"):
        return "json"
    suffix = path.suffix.lower() if path else ""
    if suffix in (".edi", ".paxlst", ".edifact"):
        return "paxlst"
    return "csv"


def read_manifest(raw: bytes, fmt: str = "auto", path: Path | None = None) -> Manifest:
    """Read a whole manifest or raise ManifestError (nothing half-read)."""
    if fmt not in FORMATS:
        raise ManifestError("manifest", f"unknown format {fmt!r}")
    kind = detect(raw, path) if fmt == "auto" else fmt
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError(f"line {line}", "not UTF-8 text") from exc
    if kind == "paxlst":
        from cvis.foreign.paxlst import read_paxlst

        return _collect(kind, raw, read_paxlst(text))
    reader = read_json if kind == "json" else read_csv
    return _collect(kind, raw, reader(text))
