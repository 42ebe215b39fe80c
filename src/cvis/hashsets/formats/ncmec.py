"""An NCMEC-style XML hash list: image/video entries, fingerprints, classification, tombstones.

A <video> keeps every hash: several <pdq> elements (optionally with ``quality``,
``timestamp`` and ``frame`` attributes) are its frames, kept whole as one vPDQ value and
written back the same way.

Parsed with defusedxml: no DTDs, no entity expansion, no external entities.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from cvis.hashsets.formats.base import HashListFormat
from cvis.hashsets.records import (
    KnownRecord,
    RecordError,
    normalize_hash,
    parse_bool,
    parse_category,
)
from cvis.signals.vpdq import VpdqFrame, checked_frame, frames_value, parse_frames

ROOT = "hashList"
ATTR = "@"  # extra keys kept from an entry's XML attributes
ENTRY_TAGS = ("image", "video", "deleted")
SIGNAL_TAGS = ("md5", "sha1", "sha256", "pdq")
# NCMEC industry classifications (A = prepubescent, B = pubescent; 1 sex act, 2 lascivious).
CLASSIFICATION_TO_VIC = {"A1": 1, "A2": 1, "B1": 1, "B2": 1}
FIELD_TAGS = {
    "category": "category",
    "series": "series",
    "victimIdentified": "victim_identified",
    "offenderIdentified": "offender_identified",
    "distributed": "distributed",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class NcmecXmlFormat(HashListFormat):
    name = "ncmec"
    description = "NCMEC-style XML hash list (<hashList><image id=..><md5>..; <deleted id=../>)"

    @classmethod
    def sniff(cls, head: str) -> bool:
        return f"<{ROOT}" in head[:4096]

    def read(self, stream: TextIO) -> Iterator[KnownRecord | RecordError]:
        number = 0
        try:
            depth, root = 0, None
            for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
                depth += 1 if event == "start" else -1
                root = element if root is None else root
                if event != "end" or depth != 1:
                    continue
                number += 1
                try:
                    yield self._record(element)
                except ValueError as exc:
                    yield RecordError(number, str(exc), "record")
                root.clear()  # entries already read are dropped: memory stays bounded
        except (ParseError, DefusedXmlException) as exc:
            yield RecordError(number + 1, f"not valid XML: {exc}", "record")

    def _record(self, element: Element) -> KnownRecord:
        kind = _local(element.tag)
        if kind not in ENTRY_TAGS:
            raise ValueError(f"unexpected element <{kind}>")
        media_id = (element.get("id") or "").strip()
        children = {_local(c.tag): (c.text or "").strip() for c in element}
        signals = {t: normalize_hash(t, children[t]) for t in SIGNAL_TAGS if children.get(t)}
        _check_single(element, kind)
        if kind == "video" and (frames := _video_frames(element)):
            del signals["pdq"]
            signals["vpdq"] = frames_value(frames)
        if kind == "deleted":
            if not media_id:
                raise ValueError("a <deleted> entry needs an id")
            return KnownRecord(media_id=media_id, signals=signals, deleted=True)
        if not signals:
            raise ValueError("no hash: an entry needs md5, sha1, sha256 or pdq")
        extra: dict[str, Any] = {
            ATTR + k: v for k, v in element.attrib.items() if k != "id"
        }
        if kind == "video":
            extra["media_type"] = "video"
        classification = children.get("classification", "")
        fields = self._fields(children, classification)
        for child in element:
            tag = _local(child.tag)
            if tag == "field":
                extra[child.get("name", "")] = child.text or ""
            elif tag not in SIGNAL_TAGS and tag not in FIELD_TAGS and tag != "tag":
                extra[tag] = (child.text or "").strip()
        tags = [(c.text or "").strip() for c in element if _local(c.tag) == "tag"]
        return KnownRecord(media_id=media_id or next(iter(signals.values())), signals=signals,
                           tags=tags, extra=extra, **fields)

    def _fields(self, children: dict[str, str], classification: str) -> dict[str, Any]:
        category = parse_category(children.get("category"))
        if category is None and classification:
            category = CLASSIFICATION_TO_VIC.get(classification.upper())
        return {
            "category": category,
            "series": children.get("series") or None,
            "victim_identified": parse_bool(children.get("victimIdentified")),
            "offender_identified": parse_bool(children.get("offenderIdentified")),
            "distributed": parse_bool(children.get("distributed")),
        }

    def write(self, records: Iterable[KnownRecord], stream: TextIO) -> None:
        stream.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{ROOT} version="1">\n')
        for record in records:
            stream.write(self._entry(record))
        stream.write(f"</{ROOT}>\n")

    def _entry(self, record: KnownRecord) -> str:
        if record.deleted:
            return f"  <deleted id={quoteattr(record.media_id)}/>\n"
        extra = dict(record.extra)
        kind = "video" if extra.pop("media_type", None) == "video" else "image"
        attrs = "".join(f" {k.removeprefix(ATTR)}={quoteattr(str(v))}"
                        for k, v in extra.items() if k.startswith(ATTR))
        parts = [f"<{t}>{record.signals[t]}</{t}>" for t in SIGNAL_TAGS if t in record.signals]
        if "vpdq" in record.signals:
            kind = "video"
            parts += [_frame_element(f) for f in parse_frames(record.signals["vpdq"])]
        for tag, attr in FIELD_TAGS.items():
            value = getattr(record, attr)
            if value is not None:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                parts.append(f"<{tag}>{escape(text)}</{tag}>")
        parts += [f"<tag>{escape(t)}</tag>" for t in record.tags]
        parts += [
            f"<field name={quoteattr(k)}>{escape(v if isinstance(v, str) else json.dumps(v))}"
            "</field>"
            for k, v in extra.items() if not k.startswith(ATTR)
        ]
        body = "".join(parts)
        return f"  <{kind} id={quoteattr(record.media_id)}{attrs}>{body}</{kind}>\n"


FRAME_ATTRS = ("frame", "quality", "timestamp")


def _check_single(element: Element, kind: str) -> None:
    """An entry's digests come once each, and a picture's PDQ once: a second value is never
    dropped in silence (a video's several <pdq> elements are its frames)."""
    seen: set[str] = set()
    for child in element:
        tag = _local(child.tag)
        if tag in SIGNAL_TAGS and tag in seen and not (kind == "video" and tag == "pdq"):
            raise ValueError(f"<{kind}> has more than one <{tag}>; an entry has one of each "
                             "(only a <video>'s <pdq> elements, its frames, may repeat)")
        seen.add(tag)


def _video_frames(element: Element) -> list[VpdqFrame]:
    """A video's frames: its <pdq> elements, in order, when there are several or they carry
    frame attributes (quality, timestamp, frame: else 100, one a second, none); one bare <pdq>
    stays the video's PDQ."""
    found = [c for c in element if _local(c.tag) == "pdq"]
    if len(found) < 2 and not any(a in c.attrib for c in found for a in FRAME_ATTRS):
        return []
    frames = []
    for position, child in enumerate(found):
        number = child.get("frame")
        frames.append(checked_frame(
            child.text or "", child.get("quality") or 100, child.get("timestamp") or position,
            int(number) if number and number.isdigit() else None))
    return frames


def _frame_element(frame: VpdqFrame) -> str:
    number = "" if frame.frame_number is None else f' frame="{frame.frame_number}"'
    return (f'<pdq{number} quality="{frame.quality}" timestamp="{frame.timestamp:.3f}">'
            f"{frame.hash}</pdq>")
