"""The record every hash-list format reads into and writes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
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

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def parse_bool(value: str | None) -> bool | None:
    """Hash lists spell booleans many ways; empty means unknown."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("", "null", "none", "unknown"):
        return None
    if text in ("1", "true", "yes", "y", "t"):
        return True
    if text in ("0", "false", "no", "n", "f"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_category(value: str | None) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    category = int(str(value).strip())
    if not 0 <= category <= 99:
        raise ValueError(f"category out of range: {value!r}")
    return category
