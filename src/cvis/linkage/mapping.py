"""Read a registry or index (CSV or Parquet) into canonical person columns.

A TOML mapping file says which source column feeds which canonical field; columns
already named canonically need no mapping, and every other column is kept as an
attribute. Malformed rows and fields are reported by row number (never by value)
and treated as missing, so one bad line does not stop a monthly run.
"""

from __future__ import annotations

import csv
import logging
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from cvis.digests import file_sha256
from cvis.linkage.persons import CANONICAL_FIELDS, DATE_ATTRIBUTES, DATE_FIELDS, Issue

log = logging.getLogger(__name__)

ROW = "_row"  # source row number (CSV line number, or 1-based Parquet row)


class MappingError(ValueError):
    """The mapping file itself is unusable (a usage error, not a data error)."""


@dataclass(frozen=True)
class ColumnSpec:
    """How one canonical field or attribute is read from the source."""

    columns: tuple[str, ...]
    date_format: str | None = None
    separator: str = ";"
    join: str = " "


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file; the empty mapping means "columns are already canonical"."""

    fields: dict[str, ColumnSpec] = field(default_factory=dict)
    attributes: dict[str, ColumnSpec] = field(default_factory=dict)
    file_format: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"


@dataclass
class SourceTable:
    """One input in canonical form, with what was wrong with it."""

    name: str
    frame: pd.DataFrame
    attributes: list[str]
    issues: list[Issue]
    sha256: str


def _spec(key: str, raw: Any) -> ColumnSpec:
    if isinstance(raw, str):
        return ColumnSpec(columns=(raw,))
    if isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        return ColumnSpec(columns=tuple(raw))
    if isinstance(raw, dict):
        cols = raw.get("columns", raw.get("column"))
        if isinstance(cols, str):
            cols = [cols]
        if not cols:
            raise MappingError(f"mapping for {key!r} names no column")
        return ColumnSpec(
            columns=tuple(cols),
            date_format=raw.get("format"),
            separator=raw.get("separator", ";"),
            join=raw.get("join", " "),
        )
    raise MappingError(f"mapping for {key!r} must be a column name, a list or a table")


def parse_mapping(text: str) -> Mapping:
    """Parse mapping TOML (see docs/linkage.md for the format)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping is not valid TOML: {exc}") from exc
    fields = {k: _spec(k, v) for k, v in doc.get("fields", {}).items()}
    unknown = sorted(set(fields) - set(CANONICAL_FIELDS))
    if unknown:
        raise MappingError(f"unknown canonical fields in [fields]: {', '.join(unknown)}")
    attributes = {k: _spec(k, v) for k, v in doc.get("attributes", {}).items()}
    source = doc.get("source", {})
    return Mapping(
        fields=fields,
        attributes=attributes,
        file_format=source.get("format"),
        delimiter=source.get("delimiter", ","),
        encoding=source.get("encoding", "utf-8"),
    )


def load_mapping(path: Path | None) -> Mapping:
    """Read a mapping file; no path means the source is already canonical."""
    if path is None:
        return Mapping()
    try:
        return parse_mapping(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc.strerror}") from exc


def _read_csv(path: Path, mapping: Mapping, name: str, issues: list[Issue]) -> pd.DataFrame:
    with open(path, newline="", encoding=mapping.encoding, errors="replace") as fh:
        reader = csv.reader(fh, delimiter=mapping.delimiter)
        header = next(reader, None)
        if header is None:
            return pd.DataFrame({ROW: pd.Series([], dtype="int64")})
        width = len(header)
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                problem = f"expected {width} fields, found {len(row)}"
                if len(row) > width:
                    issues.append(Issue(name, reader.line_num, "*", problem + "; row skipped"))
                    continue
                issues.append(Issue(name, reader.line_num, "*", problem + "; rest missing"))
                row = row + [""] * (width - len(row))
            rows.append(row)
            lines.append(reader.line_num)
    frame = pd.DataFrame(rows, columns=[h.strip() for h in header], dtype=object)
    frame[ROW] = lines
    return frame


#: Columns that Parquet stores as dates or timestamps: read as ISO 8601 whatever format
#: the mapping gives (that format describes text, and these are not text).
TYPED_DATES = "typed_dates"


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    typed = set()
    columns = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_temporal(col.type) and not pa.types.is_time(col.type):
            typed.add(str(name))
            col = pc.strftime(col, format="%Y-%m-%d")
        columns[str(name)] = col.cast(pa.string()).to_pandas()
    out = pd.DataFrame(columns)
    out[ROW] = range(1, len(out) + 1)
    out.attrs[TYPED_DATES] = typed
    return out


def is_parquet(path: Path, mapping: Mapping) -> bool:
    """Parquet by its magic bytes, whatever the mapping's [source] format says: a mapping
    written for a CSV extract still applies to the same columns in Parquet."""
    try:
        with open(path, "rb") as fh:
            if fh.read(4) == b"PAR1":
                return True
    except OSError:
        pass
    by_suffix = "parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv"
    fmt = mapping.file_format or by_suffix
    if fmt not in ("csv", "parquet"):
        raise MappingError(f"unknown source format {fmt!r} (csv or parquet)")
    return fmt == "parquet" and path.suffix.lower() in {".parquet", ".pq"}


def read_raw(path: Path, mapping: Mapping, name: str, issues: list[Issue]) -> pd.DataFrame:
    """Source columns as strings (None where empty), plus the row-number column."""
    if is_parquet(path, mapping):
        return _read_parquet(path)
    return _read_csv(path, mapping, name, issues)


def _clean(series: pd.Series) -> pd.Series:
    """Strip whitespace; empty means missing. Done in Arrow: millions of rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(series.astype(object), from_pandas=True, type=pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=series.index, dtype=object)


def _column(raw: pd.DataFrame, spec: ColumnSpec, key: str) -> pd.Series:
    missing = [c for c in spec.columns if c not in raw.columns]
    if missing:
        raise MappingError(f"{key!r} maps to missing source column(s): {', '.join(missing)}")
    parts = [_clean(raw[c]) for c in spec.columns]
    if len(parts) == 1:
        return parts[0]
    joined = pd.concat(parts, axis=1).apply(
        lambda r: spec.join.join(v for v in r if v) or None, axis=1
    )
    return joined.astype(object)


def _parse_dates(
    values: pd.Series, rows: pd.Series, spec: ColumnSpec, key: str, name: str, issues: list[Issue]
) -> pd.Series:
    parsed = _to_dates(values, spec.date_format)
    bad = values.notna() & parsed.isna()
    if key in DATE_FIELDS:
        today = pd.Timestamp(date.today())
        out_of_range = parsed.notna() & ((parsed > today) | (parsed.dt.year < 1900))
        for row in rows[out_of_range]:
            issues.append(Issue(name, int(row), key, "date out of range; treated as missing"))
        parsed = parsed.where(~out_of_range)
    for row in rows[bad]:
        issues.append(Issue(name, int(row), key, "not a valid date; treated as missing"))
    text = parsed.dt.strftime("%Y-%m-%d").astype(object)
    return text.where(parsed.notna(), None)


def _to_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Parse with Arrow's strptime (C++, fast) and keep what formats back to the same
    text; the rest (31 February, unpadded days) goes through pandas, which is strict."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype(object), from_pandas=True, type=pa.string())
    arrow_fmt = fmt
    if fmt is None:  # ISO 8601: the date part, optionally followed by a time
        arr = pc.utf8_slice_codeunits(arr, 0, 10)
        arrow_fmt = "%Y-%m-%d"
    stamps = pc.strptime(arr, format=arrow_fmt, unit="s", error_is_null=True)
    same = pc.fill_null(pc.equal(pc.strftime(stamps, format=arrow_fmt), arr), False)
    parsed = pd.Series(stamps.to_pandas().to_numpy(copy=True), index=values.index)
    redo = values.notna() & ~pd.Series(same.to_numpy(zero_copy_only=False), index=values.index)
    if redo.any():
        again = pd.to_datetime(values[redo], format=fmt or "ISO8601", errors="coerce")
        parsed[redo] = again.astype(parsed.dtype)
    return parsed


_SEX = {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F", "x": "X"}


def _normalise(
    key: str, values: pd.Series, rows: pd.Series, spec: ColumnSpec, name: str, issues: list[Issue]
) -> pd.Series:
    if key in DATE_FIELDS or key in DATE_ATTRIBUTES:
        return _parse_dates(values, rows, spec, key, name, issues)
    if key == "aliases":
        sep = spec.separator
        return values.map(
            lambda v: [a.strip() for a in v.split(sep) if a.strip()] if v else None
        )
    if key == "sex":
        mapped = values.str.lower().map(_SEX).astype(object)
        mapped = mapped.where(mapped.notna(), None)
        for row in rows[values.notna() & mapped.isna()]:
            issues.append(Issue(name, int(row), key, "unrecognised sex code; treated as missing"))
        return mapped
    if key == "national_id":
        mapped = values.str.replace(r"[^0-9A-Za-z]", "", regex=True).str.upper()
        short = mapped.notna() & (mapped.str.len() < 4)
        for row in rows[values.notna() & short]:
            issues.append(Issue(name, int(row), key, "identifier too short; treated as missing"))
        return mapped.where(~short, None)
    if key == "postcode":
        return values.str.replace(" ", "", regex=False).str.upper()
    return values


def canonicalise(
    raw: pd.DataFrame, mapping: Mapping, name: str, issues: list[Issue]
) -> pd.DataFrame:
    """Apply the mapping: canonical fields, attributes, row numbers; ids checked."""
    specs: dict[str, ColumnSpec] = dict(mapping.fields)
    used = {c for s in list(specs.values()) + list(mapping.attributes.values()) for c in s.columns}
    for col in raw.columns:
        if col in CANONICAL_FIELDS and col not in specs and col not in used:
            specs[col] = ColumnSpec(columns=(col,))
    if "id" not in specs:
        raise MappingError(f"{name}: no 'id' column and the mapping does not name one")
    attrs: dict[str, ColumnSpec] = dict(mapping.attributes)
    for col in raw.columns:
        if col != ROW and col not in used and col not in specs and col not in attrs:
            attrs[col] = ColumnSpec(columns=(col,))
    rows = raw[ROW]
    out = pd.DataFrame({ROW: rows})
    typed = raw.attrs.get(TYPED_DATES, set())
    for key, spec in list(specs.items()) + list(attrs.items()):
        if spec.date_format and set(spec.columns) <= typed:
            spec = ColumnSpec(spec.columns, None, spec.separator, spec.join)
        out[key] = _normalise(key, _column(raw, spec, key), rows, spec, name, issues)
    missing_id = out["id"].isna()
    for row in rows[missing_id]:
        issues.append(Issue(name, int(row), "id", "missing id; row skipped"))
    dup = out["id"].duplicated() & ~missing_id
    for row in rows[dup]:
        issues.append(Issue(name, int(row), "id", "duplicate id; row skipped"))
    out = out[~missing_id & ~dup].reset_index(drop=True)
    out.attrs["attributes"] = list(attrs)
    return out


def load_source(name: str, path: Path, mapping: Mapping) -> SourceTable:
    """Read, map and validate one input; issues are logged as counts only."""
    issues: list[Issue] = []
    raw = read_raw(Path(path), mapping, name, issues)
    frame = canonicalise(raw, mapping, name, issues)
    if issues:
        log.warning("%s: %d malformed rows or fields (see issues.csv)", name, len(issues))
    log.info("%s: %d records read", name, len(frame))
    return SourceTable(
        name=name,
        frame=frame,
        attributes=list(frame.attrs["attributes"]),
        issues=issues,
        sha256=file_sha256(Path(path)),
    )
