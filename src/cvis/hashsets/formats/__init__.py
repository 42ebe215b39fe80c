"""Hash-list formats, registered by name; built-ins use the same hook as plug-ins."""

from __future__ import annotations

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.formats.cvis_csv import CvisCsvFormat
from cvis.hashsets.formats.hma import HmaCsvFormat
from cvis.hashsets.formats.icse import IcseFormat
from cvis.hashsets.formats.jsonl import JsonLinesFormat
from cvis.hashsets.formats.ncmec import NcmecXmlFormat
from cvis.hashsets.formats.plain import PlainListFormat
from cvis.hashsets.formats.vics import Vics2Format, VicsFormat
from cvis.hashsets.formats.vpdq import VpdqFileFormat

FORMATS: dict[str, type[HashListFormat]] = {}


class UnknownFormatError(ValueError):
    pass


def register_format(fmt: type[HashListFormat]) -> None:
    """Plug-in hook; formats are sniffed in registration order, so register specific ones first."""
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


for _builtin in (
    VicsFormat, Vics2Format, NcmecXmlFormat, VpdqFileFormat, IcseFormat, JsonLinesFormat,
    HmaCsvFormat, CvisCsvFormat, PlainListFormat,
):
    register_format(_builtin)

__all__ = [
    "FORMATS", "HashListFormat", "UnknownFormatError", "detect_format", "get_format",
    "register_format",
]
