"""The public feeds: Atom (feedgen) for readers, CAP 1.2 for alerting systems.

``/cap.xml`` is an Atom index whose entries each carry one whole CAP 1.2 ``<alert>`` (the
usual way CAP is published as a feed): the newest message for every poster, so a
withdrawn poster's entry is its ``Cancel``, which references every earlier message.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from cvis.portal.i18n import gettext

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
KIND_EVENT = {"fugitive": "Wanted fugitive", "unknown_suspect": "Unknown suspect"}


@dataclass(frozen=True)
class FeedEvent:
    """An event with what the feeds show of its poster (read from the public tables)."""

    id: int
    poster_id: str
    msg_type: str
    status: str
    headline: str
    note: str
    at: datetime
    kind: str
    description: str
    caution: str
    field_office: str
    areas: list[dict[str, Any]]


def cap_time(at: datetime) -> str:
    """CAP's dateTime: no fractions, explicit offset, UTC written as -00:00."""
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S-00:00")


def sender(base_url: str) -> str:
    return f"portal@{urlsplit(base_url).hostname or 'cvis.invalid'}"


def identifier(base_url: str, event: FeedEvent) -> str:
    host = urlsplit(base_url).hostname or "cvis"
    return f"{host}-{event.poster_id}-{event.id}"


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    element.text = text
    return element


def _area(info: ET.Element, area: dict[str, Any]) -> None:
    block = ET.SubElement(info, f"{{{CAP_NS}}}area")
    radius_km = float(area.get("radius_miles", 0)) * 1.609344
    _sub(block, "areaDesc", f"Within {area.get('radius_miles', 0):g} miles of ZIP {area['zip']}")
    _sub(block, "circle", f"{area['lat']:.4f},{area['lon']:.4f} {radius_km:.1f}")
    geocode = ET.SubElement(block, f"{{{CAP_NS}}}geocode")
    _sub(geocode, "valueName", "ZIP")
    _sub(geocode, "value", str(area["zip"]))


def cap_alert(base_url: str, event: FeedEvent, earlier: list[FeedEvent]) -> ET.Element:
    """One CAP 1.2 message; Update and Cancel reference the poster's earlier messages."""
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    for tag, text in (("identifier", identifier(base_url, event)), ("sender", sender(base_url)),
                      ("sent", cap_time(event.at)), ("status", "Actual"),
                      ("msgType", event.msg_type), ("scope", "Public")):
        _sub(alert, tag, text)
    if event.msg_type == "Cancel":  # the schema's order: note before references
        _sub(alert, "note", event.note or "poster withdrawn")
    if earlier:
        _sub(alert, "references", " ".join(
            f"{sender(base_url)},{identifier(base_url, e)},{cap_time(e.at)}" for e in earlier))
    info = ET.SubElement(alert, f"{{{CAP_NS}}}info")
    for tag, text in (("language", "en-US"), ("category", "Security"),
                      ("event", KIND_EVENT.get(event.kind, "Wanted person")),
                      ("responseType", "Monitor" if event.msg_type != "Cancel" else "AllClear"),
                      ("urgency", "Unknown"), ("severity", "Unknown"),
                      ("certainty", "Unknown"),
                      ("senderName", event.field_office or "cvis public portal"),
                      ("headline", _headline(event)),
                      ("description", event.note if event.msg_type == "Cancel"
                       else event.description or event.headline)):
        _sub(info, tag, text)
    if event.msg_type != "Cancel":
        _sub(info, "instruction", (event.caution + " " if event.caution else "")
             + "Do not approach. Send a tip through the poster's page.")
    _sub(info, "web", f"{base_url}/posters/{event.poster_id}")
    for area in event.areas:
        _area(info, area)
    return alert


def _headline(event: FeedEvent) -> str:
    if event.msg_type == "Cancel":
        return f"Withdrawn: {event.headline}"
    if event.status == "captured":
        return f"Captured: {event.headline}"
    return f"{KIND_EVENT.get(event.kind, 'Wanted')}: {event.headline}"


def cap_document(base_url: str, event: FeedEvent, earlier: list[FeedEvent]) -> bytes:
    alert = cap_alert(base_url, event, earlier)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        alert, encoding="unicode", default_namespace=CAP_NS).encode()


def cap_feed(base_url: str, history: dict[str, list[FeedEvent]]) -> bytes:
    """The Atom index of CAP messages: each poster's newest message, newest first."""
    latest = sorted(((events[-1], events[:-1]) for events in history.values() if events),
                    key=lambda pair: (pair[0].at, pair[0].id), reverse=True)
    updated = cap_time(latest[0][0].at) if latest else cap_time(datetime(2026, 1, 1, tzinfo=UTC))
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<feed xmlns="{ATOM_NS}"><id>{_esc(base_url)}/cap.xml</id>',
        "<title>cvis public portal: CAP 1.2 alerts</title>",
        f"<updated>{updated}</updated>",
        f'<link rel="self" href="{_esc(base_url)}/cap.xml"/>',
        "<author><name>cvis public portal</name></author>",
    ]
    for event, earlier in latest:
        ident = identifier(base_url, event)
        alert = ET.tostring(cap_alert(base_url, event, earlier), encoding="unicode",
                            default_namespace=CAP_NS)
        parts += [
            f"<entry><id>urn:cap:{_esc(ident)}</id><title>{_esc(_headline(event))}</title>",
            f"<updated>{cap_time(event.at)}</updated>",
            f'<link rel="alternate" type="application/cap+xml" '
            f'href="{_esc(base_url)}/cap/{_esc(ident)}.xml"/>',
            f'<content type="application/cap+xml">{alert}</content></entry>',
        ]
    parts.append("</feed>\n")
    return "".join(parts).encode()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;")


def atom_feed(base_url: str, events: list[FeedEvent], language: str) -> bytes:
    """Every published change, newest first, for feed readers."""
    _ = lambda text: gettext(language, text)  # noqa: E731
    feed = FeedGenerator()
    feed.id(f"{base_url}/feed.atom")
    feed.title(_("Most wanted: cvis public portal"))
    feed.link(href=f"{base_url}/feed.atom", rel="self")
    feed.link(href=f"{base_url}/", rel="alternate")
    feed.language(language)
    feed.author({"name": "cvis public portal"})
    feed.updated(events[0].at.replace(tzinfo=events[0].at.tzinfo or UTC) if events
                 else datetime(2026, 1, 1, tzinfo=UTC))
    for event in reversed(events):  # feedgen lists the last added first
        entry = feed.add_entry()
        entry.id(f"{base_url}/posters/{event.poster_id}#event-{event.id}")
        entry.title(f"{_status_word(event, _)}: {event.headline}")
        entry.link(href=f"{base_url}/posters/{event.poster_id}")
        entry.updated(event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC))
        entry.summary(event.note or event.description or event.headline)
    return feed.atom_str(pretty=True)


def _status_word(event: FeedEvent, _: Callable[[str], str]) -> str:
    if event.msg_type == "Cancel":
        return _("Withdrawn")
    if event.status == "captured":
        return _("Captured")
    return _("Updated") if event.msg_type == "Update" else _("Wanted")
