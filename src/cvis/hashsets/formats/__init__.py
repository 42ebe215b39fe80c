"""Hash-list formats, registered by name; built-ins use the same hook as plug-ins."""

from __future__ import annotations

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.formats.cvis_csv import CvisCsvFormat

FORMATS: dict[str, type[HashListFormat]] = {}


class UnknownFormatError(ValueError):
    pass


def register_format(fmt: type[HashListFormat]) -> None:
    FORMATS[fmt.name] = fmt


def get_format(name: str) -> HashListFormat:
    try:
        return FORMATS[name]()
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise UnknownFormatError(f"unknown format {name!r} (known: {known})") from None


def detect_format(head: str) -> HashListFormat:
    for fmt in FORMATS.values():
        if fmt.sniff(head):
            return fmt()
    raise UnknownFormatError("cannot tell the file's format; name it with --format")


register_format(CvisCsvFormat)

__all__ = ["FORMATS", "HashListFormat", "UnknownFormatError", "detect_format", "get_format"]
