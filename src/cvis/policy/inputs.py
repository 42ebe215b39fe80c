"""One gate for names people type (sets, agencies, users, purposes): printable, bounded.

Control characters (NUL, newline, ...) break logs, CSV and terminals; bidirectional
controls (right-to-left override and friends) make a name read differently from
what it is. Both are refused, as are names that are empty or too long.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 200
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


class InvalidName(ValueError):
    """A name refused by ``check_name``, saying why."""


def check_name(value: str, what: str = "a name", max_length: int = MAX_NAME) -> str:
    """``value`` if it is 1..max_length printable characters without bidi controls."""
    if not value or not value.strip():
        raise InvalidName(f"{what} cannot be empty")
    if len(value) > max_length:
        raise InvalidName(f"{what} may have at most {max_length} characters")
    for ch in value:
        if ch in _BIDI_CONTROLS:
            raise InvalidName(f"{what} must not contain bidirectional control characters "
                              f"(U+{ord(ch):04X})")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise InvalidName(f"{what} must not contain control or invisible characters "
                              f"(U+{ord(ch):04X})")
    return value
