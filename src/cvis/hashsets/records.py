"""The record every hash-list format reads into and writes from."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cvis.signals import normalize

# Hex digests that are canonical once lower-cased skip the validator's strip/lower/regex
# round: the result would be the same string. Anything else (and every PDQ) goes through
# the one gate.
_CANONICAL_DIGEST = {
    "md5": re.compile(r"[0-9a-f]{32}"),
    "sha1": re.compile(r"[0-9a-f]{40}"),
    "sha256": re.compile(r"[0-9a-f]{64}"),
}


def normalize_hash(signal: str, value: str) -> str:
    """``cvis.signals.normalize`` with a fast path for the millions of clean digests in a list."""
    pattern = _CANONICAL_DIGEST.get(signal)
    if pattern is not None:
        lowered = value.lower()  # VICS and ICSE write digests in upper case
        if pattern.fullmatch(lowered):
            return lowered
    return normalize(signal, value)


@dataclass(slots=True)
class KnownRecord:
    """One known media item as a hash list describes it (signals already normalised)."""

    media_id: str
    signals: dict[str, str] = field(default_factory=dict)
    category: int | None = None
    series: str | None = None
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    distributed: bool | None = None
    tags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True)
class RecordError:
    """A malformed record: where it was and what is wrong with it."""

    line: int
    reason: str
    unit: str = "line"  # "record" for formats without useful line numbers (JSON, XML)

    def __str__(self) -> str:
        return f"{self.unit} {self.line}: {self.reason}"


RECORD_FIELDS = (
    "category",
    "series",
    "victim_identified",
    "offender_identified",
    "distributed",
    "tags",
    "extra",
)


def record_to_dict(record: KnownRecord) -> dict[str, Any]:
    """A JSON-safe snapshot (the change log and the sync feed store records this way)."""
    data: dict[str, Any] = {"media_id": record.media_id, "signals": dict(record.signals)}
    data.update({f: getattr(record, f) for f in RECORD_FIELDS})
    if record.deleted:
        data["deleted"] = True
    return data


def record_from_dict(data: dict[str, Any]) -> KnownRecord:
    return KnownRecord(
        media_id=str(data["media_id"]),
        signals=dict(data.get("signals") or {}),
        category=data.get("category"),
        series=data.get("series"),
        victim_identified=data.get("victim_identified"),
        offender_identified=data.get("offender_identified"),
        distributed=data.get("distributed"),
        tags=list(data.get("tags") or []),
        extra=dict(data.get("extra") or {}),
        deleted=bool(data.get("deleted", False)),
    )


def parse_bool(value: object) -> bool | None:
    """Hash lists spell booleans many ways; empty means unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "null", "none", "unknown"):
        return None
    if text in ("1", "true", "yes", "y", "t"):
        return True
    if text in ("0", "false", "no", "n", "f"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_category(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        category = value
    elif not (text := str(value).strip()):
        return None
    else:
        category = int(text)
    if not 0 <= category <= 99:
        raise ValueError(f"category out of range: {value!r}")
    return category


# Columns a list may carry beside the format's own: kept as extras and read by the report
# (who identified the child, whom a prosecutor calls). Anything close to one of these or to
# a format column, but not equal, is a typing mistake that would silently drop a fact.
RECOGNISED_EXTRA_COLUMNS = (
    "identifying_agency", "victim_identified_by", "contact", "prosecutor_contact",
)


class ColumnError(ValueError):
    """A header names a column the format does not know but nearly does (an input error)."""


def check_columns(
    header: Sequence[str], known: Iterable[str],
    recognised: Iterable[str] = RECOGNISED_EXTRA_COLUMNS,
) -> None:
    """Refuse misspelled columns, naming each with the column it was probably meant to be."""
    vocabulary = [*known, *recognised]
    exact = set(vocabulary)
    mistakes = []
    for column in header:
        name = column.strip()
        if name in exact:
            continue
        close = [v for v in difflib.get_close_matches(name.lower(), vocabulary, n=3, cutoff=0.6)
                 if _typing_distance(name.lower(), v) <= max(1, min(2, len(v) // 4))]
        if close:
            mistakes.append(f"unknown column {name!r} (did you mean {close[0]!r}?)")
    if mistakes:
        raise ColumnError("; ".join(mistakes) + "; nothing imported")


def _typing_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) turning ``a`` into ``b``."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, start=1):
        row = [i]
        for j, cb in enumerate(b, start=1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


FRAME_COLUMNS = ("frame_number", "quality", "timestamp")  # per-row facts of a video's frames


class ItemRows:
    """The rows a list gives for one media item (HMA, CSV: one row per hash), merged so that
    nothing is cut to one: PDQ given in several rows is a video's frames, kept whole as one
    vPDQ value (quality, time and frame number from the rows' ``quality``, ``timestamp`` and
    ``frame_number`` columns when the list has them, else 100, one a second, none); a value
    given twice is one; any other signal given two different values refuses the item."""

    def __init__(self, record: KnownRecord) -> None:
        self.record = record
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self._take_frame(record.signals, record.extra)

    def add(self, other: KnownRecord) -> None:
        """Another row of the same media id (its metadata beyond the hash is not read)."""
        self._take_frame(other.signals, other.extra)
        for kind, value in other.signals.items():
            known = self.record.signals.get(kind)
            if kind != "pdq" and known is not None and known != value:
                raise ValueError(
                    f"media id {self.record.media_id!r} has two {kind} values ({known} and "
                    f"{value}); an item has one of each (only PDQ rows, a video's frames, "
                    "may repeat)")
            self.record.signals.setdefault(kind, value)

    def _take_frame(self, signals: dict[str, str], extra: dict[str, Any]) -> None:
        if "pdq" in signals:
            self.frames.append((signals["pdq"], {k: extra.get(k) for k in FRAME_COLUMNS}))

    def finish(self) -> KnownRecord:
        """The item: a picture as it came, or a video whose PDQ rows became its vPDQ value."""
        if len({value for value, _ in self.frames}) < 2:
            return self.record
        from cvis.signals.vpdq import checked_frame, frames_value

        if "vpdq" in self.record.signals:
            raise ValueError(f"media id {self.record.media_id!r} has a vpdq value and several "
                             "pdq rows; give its frames one way")
        frames = []
        for position, (value, meta) in enumerate(self.frames):
            number = meta.get("frame_number")
            frames.append(checked_frame(
                value, meta.get("quality") or 100,
                position if meta.get("timestamp") in (None, "") else meta["timestamp"],
                int(number) if number not in (None, "") else None))
        del self.record.signals["pdq"]
        self.record.signals["vpdq"] = frames_value(frames)
        for key in FRAME_COLUMNS:
            self.record.extra.pop(key, None)
        return self.record


def grouped_items(
    rows: Iterable[tuple[int, KnownRecord | RecordError]],
) -> Iterator[KnownRecord | RecordError]:
    """Consecutive rows of one media id as one item (``ItemRows``, made only when a media id
    repeats: a list of one row per item pays for one comparison a row); a media id whose rows
    disagree is refused whole, its error at the row that disagreed."""
    pending: KnownRecord | None = None
    merged: ItemRows | None = None
    refused: str | None = None
    last = 0
    for last, record in rows:
        if isinstance(record, RecordError):
            yield record
            continue
        media_id = record.media_id
        if pending is not None and pending.media_id == media_id:
            merged = merged or ItemRows(pending)
            try:
                merged.add(record)
            except ValueError as exc:
                refused, pending, merged = media_id, None, None
                yield RecordError(last, str(exc))
            continue
        if media_id == refused:
            continue
        if pending is not None:
            yield _finished(merged, last - 1) if merged else pending
        pending, merged, refused = record, None, None
    if pending is not None:
        yield _finished(merged, last) if merged else pending


def _finished(item: ItemRows, line: int) -> KnownRecord | RecordError:
    try:
        return item.finish()
    except ValueError as exc:
        return RecordError(line, str(exc))
