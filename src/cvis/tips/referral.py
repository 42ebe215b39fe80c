"""Partner referrals (CyberTipline-style): XML checked against cvis's schema, or JSON.

XML is parsed with defusedxml (no entities, no DTDs, no network) and validated with
xmlschema against ``schemas/referral.xsd``; every error names its line. The referral
becomes the same tip JSON every channel uses, so it passes the same gate.
"""

from __future__ import annotations

import json
import xml.parsers.expat
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import xmlschema
from defusedxml import DefusedXmlException

from cvis.tips.validate import TipRejected

SCHEMA = Path(__file__).parent / "schemas" / "referral.xsd"
MAX_REFERRAL = 5_000_000


@cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


def _lines(text: str, root: Element) -> dict[int, int]:
    """Line of each element, by document order (expat sees the same elements ET built)."""
    starts: list[int] = []
    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = lambda *_: starts.append(parser.CurrentLineNumber)
    parser.Parse(text, True)
    return {id(elem): line for elem, line in zip(root.iter(), starts, strict=False)}


def parse_referral_xml(text: str) -> dict[str, Any]:
    """A referral as tip JSON, or TipRejected naming the line of the first problem."""
    if len(text) > MAX_REFERRAL:
        raise TipRejected(f"the referral is larger than {MAX_REFERRAL} bytes")
    try:
        root = SafeET.fromstring(text)
    except SafeET.ParseError as exc:
        raise TipRejected(f"malformed XML at line {exc.position[0]}, column "
                          f"{exc.position[1] + 1}: {exc}") from None
    except DefusedXmlException as exc:
        raise TipRejected(f"refused XML: {type(exc).__name__} (no DTDs or entities)") from None
    for error in _schema().iter_errors(root):
        culprit = getattr(error, "invalid_child", None)
        culprit = error.elem if culprit is None else culprit  # an empty Element is falsy
        line = _lines(text, root).get(id(culprit)) if culprit is not None else None
        where = f"line {line}" if line else f"{error.path}"
        raise TipRejected(f"referral does not follow the schema at {where}: {error.reason}")
    return _as_tip(root)


def _text(elem: Element | None, path: str) -> str:
    found = elem.find(path) if elem is not None else None
    return (found.text or "").strip() if found is not None else ""


def _as_tip(root: Element) -> dict[str, Any]:
    summary, person = root.find("incidentSummary"), root.find("reportedPerson")
    location = root.find("location")
    tip: dict[str, Any] = {
        "channel": "referral",
        "narrative": _text(summary, "description"),
        "immediate_danger": _text(summary, "childInImmediateDanger") in ("true", "1"),
        "retention_deadline": _text(summary, "retentionDeadline") or None,
        "reporter": {k: _text(root, f"reporter/{k}") for k in ("organisation", "reportId",
                                                               "contact")},
        "incident": {"type": _text(summary, "incidentType"),
                     "at": _text(summary, "incidentDateTime")},
        "urls": [(u.text or "").strip() for u in root.findall("url")],
        "hashes": [{"signal": h.get("signal", ""), "value": (h.text or "").strip()}
                   for h in root.findall("file/hash")],
    }
    if person is not None:
        tip["subject"] = {"name": _text(person, "name"), "dob": _text(person, "dateOfBirth"),
                          "aliases": [(a.text or "").strip() for a in person.findall("alias")]}
        tip["accounts"] = [_account(a) for a in person.findall("account")]
    if location is not None:
        tip["location"] = {k: _text(location, k) for k in ("zip", "city", "county", "state")}
    victim = root.find("victim")
    if victim is not None:
        tip["victim"] = {k: _text(victim, k) for k in ("ageRange", "description")}
    return tip


def _account(elem: Element) -> str:
    name = (elem.text or "").strip()
    platform = elem.get("platform", "").strip()
    return f"{platform}:{name}" if platform else name


def parse_referral(data: bytes) -> dict[str, Any]:
    """XML (by its first character) or JSON; either way tip JSON for ``submit_tip``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TipRejected(f"the referral is not UTF-8: {exc}") from None
    if text.lstrip().startswith("<"):
        return parse_referral_xml(text)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TipRejected(f"malformed JSON at line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}") from None
    if not isinstance(payload, dict):
        raise TipRejected("a referral must be a JSON object")
    return payload | {"channel": "referral"}
