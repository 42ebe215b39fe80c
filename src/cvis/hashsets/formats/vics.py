"""Project VIC's VICS JSON (data models 1.2/1.3 and 2.0): root ``value[]`` of Media objects."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, TextIO

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.formats.jsonstream import JsonStreamError, iter_array
from cvis.hashsets.records import (
    KnownRecord,
    RecordError,
    normalize_hash,
    parse_bool,
    parse_category,
)

HASH_LISTS = ("AlternativeHashes", "Hashes")
KNOWN_KEYS = {
    "MediaID", "Category", "MD5", "SHA1", "SHA256", "Series", "VictimIdentified",
    "OffenderIdentified", "IsDistributed", "Tags", *HASH_LISTS,
}
# VICS bools may arrive as strings ("true"); an extra key keeps the original spelling.
BOOL_KEYS = {
    "VictimIdentified": "victim_identified",
    "OffenderIdentified": "offender_identified",
    "IsDistributed": "distributed",
}
SPELLING_KEY = "_vics_strings"


def _pdq_hex(value: str) -> str:
    """PDQ arrives as hex or as base64 of the 32 bytes."""
    text = value.strip()
    if len(text) != 64:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 32:
            text = raw.hex()
    return normalize_hash("pdq", text)


class VicsFormat(HashListFormat):
    name = "vics"
    description = "Project VIC VICS JSON, data model 1.3 (reads 1.2, 1.3 and 2.0)"
    header: ClassVar[dict[str, str]] = {
        "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
    }

    @classmethod
    def sniff(cls, head: str) -> bool:
        return head.lstrip().startswith("{") and (
            "odata.metadata" in head or "@odata.context" in head
        )

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        header: dict[str, Any] = {}
        number = 0
        try:
            for number, media in enumerate(iter_array(stream, "value", header), start=1):
                try:
                    yield self._record(media)
                except (ValueError, TypeError, AttributeError) as exc:
                    yield RecordError(number, str(exc), "record")
        except (JsonStreamError, json.JSONDecodeError) as exc:
            yield RecordError(number + 1, f"not valid VICS JSON: {exc}", "record")

    def _record(self, media: dict[str, Any]) -> KnownRecord:
        if not isinstance(media, dict):
            raise ValueError("a Media entry must be a JSON object")
        signals = {
            name: normalize_hash(name, str(media[key]))
            for key, name in (("MD5", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256"))
            if media.get(key)
        }
        extra = {k: v for k, v in media.items() if k not in KNOWN_KEYS}
        others = []
        for key in HASH_LISTS:
            if key not in media:
                continue
            for entry in media[key] or []:
                if str(entry.get("HashName", "")).lower() == "pdq" and "pdq" not in signals:
                    signals["pdq"] = _pdq_hex(str(entry.get("HashValue", "")))
                else:
                    others.append(entry)
            if key != "AlternativeHashes":
                extra["_vics_hash_key"] = key
        if others:
            extra["AlternativeHashes"] = others
        if not signals:
            raise ValueError("no hash: a Media entry needs MD5, SHA1 or a PDQ")
        strings = [k for k in BOOL_KEYS if isinstance(media.get(k), str)]
        if strings:
            extra[SPELLING_KEY] = strings
        media_id = media.get("MediaID")
        return KnownRecord(
            media_id=str(media_id) if media_id not in (None, "") else next(iter(signals.values())),
            signals=signals,
            category=parse_category(media.get("Category")),
            series=str(media["Series"]) if media.get("Series") not in (None, "") else None,
            victim_identified=parse_bool(media.get("VictimIdentified")),
            offender_identified=parse_bool(media.get("OffenderIdentified")),
            distributed=parse_bool(media.get("IsDistributed")),
            tags=_tags(media.get("Tags")),
            extra=extra,
        )

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        stream.write("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}"
                                     for k, v in self.header.items()))
        stream.write(', "value": [')
        for i, record in enumerate(records):
            if record.deleted:
                continue  # VICS has no tombstones; a version's removals leave the list
            stream.write(("," if i else "") + "\n  " + json.dumps(self._media(record)))
        stream.write("\n]}\n")

    def _media(self, record: KnownRecord) -> dict[str, Any]:
        extra = dict(record.extra)
        strings = set(extra.pop(SPELLING_KEY, []))
        hash_key = extra.pop("_vics_hash_key", "AlternativeHashes")
        others = list(extra.pop("AlternativeHashes", []))
        media: dict[str, Any] = {
            "MediaID": int(record.media_id) if _is_int(record.media_id) else record.media_id
        }
        if record.category is not None:
            media["Category"] = record.category
        for name, key in (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256")):
            if name in record.signals:
                media[key] = record.signals[name].upper()
        if record.series is not None:
            media["Series"] = record.series
        for key, attr in BOOL_KEYS.items():
            value = getattr(record, attr)
            if value is not None:
                media[key] = str(value).lower() if key in strings else value
        if record.tags:
            media["Tags"] = record.tags
        if "pdq" in record.signals:
            others.append({"HashName": "PDQ", "HashValue": record.signals["pdq"]})
        if others:
            media[hash_key] = others
        return media | extra


def _is_int(text: str) -> bool:
    return text.isdigit() and str(int(text)) == text


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(t) for t in value]
    return [t.strip() for t in str(value).split(",") if t.strip()]


class Vics2Format(VicsFormat):
    name = "vics2"
    description = "Project VIC VICS JSON, data model 2.0"
    header: ClassVar[dict[str, str]] = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/"
        "Default/$metadata#Media"
    }

    @classmethod
    def sniff(cls, head: str) -> bool:
        return False  # VicsFormat reads every data model
