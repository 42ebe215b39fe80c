"""Registrants matched to inmates released soon, each with a draft detainer request.

The documents are drafts: nothing is sent. A person checks the match, completes
the requesting-agency part, signs and sends; the document says so, and says how
the subject can have a wrong record corrected.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cvis.linkage.review import ReviewItem, queue
from cvis.linkage.state import LinkageState

log = logging.getLogger(__name__)

DOCUMENT_FORMAT = "cvis-detainer-request/1"


class UnknownIndex(ValueError):
    """`--index` names no index of the latest run (a usage error)."""


def indices(state: LinkageState) -> list[str]:
    """Index names of the latest run."""
    run_id = state.latest_run_id()
    if run_id is None:
        return []
    rows = state.query("SELECT inputs FROM runs WHERE run_id = ?", [run_id])
    return [i["name"] for i in json.loads(rows["inputs"].iloc[0])[1:]]


@dataclass(frozen=True)
class Release:
    """A linked inmate record with a release date inside the window."""

    release_date: str
    days_left: int
    key: str
    registry_id: str
    index: str
    record_id: str
    facility: str
    match_probability: float
    match_weight: float
    review_status: str
    item: ReviewItem


def upcoming(state: LinkageState, days: int = 90, as_of: date | None = None,
             index: str | None = None) -> list[Release]:
    """Links of the latest run (rejected ones excluded) whose record's release date falls
    within `days` of `as_of`, soonest first."""
    known = indices(state)
    if index is not None and index not in known:
        raise UnknownIndex(f"no index named {index!r} in the latest run"
                           + (f" (known: {', '.join(known)})" if known else ""))
    today = as_of or date.today()
    end = today + timedelta(days=days)
    found = []
    for item in queue(state, include_decided=True):
        raw = item.record.get("release_date")
        if (item.status == "rejected" or not raw or (index and item.index != index)
                or (item.band != "link" and item.status != "confirmed")):
            continue
        when = date.fromisoformat(str(raw)[:10])
        if today <= when <= end:
            found.append(Release(
                release_date=when.isoformat(), days_left=(when - today).days, key=item.key,
                registry_id=item.registry_id, index=item.index, record_id=item.record_id,
                facility=str(item.record.get("facility") or ""),
                match_probability=item.match_probability, match_weight=item.match_weight,
                review_status=item.status, item=item,
            ))
    return sorted(found, key=lambda r: (r.release_date, r.registry_id, r.record_id))


def _subject(data: dict[str, Any]) -> dict[str, Any]:
    keys = ("given_names", "middle_names", "family_name", "full_name", "aliases", "dob", "sex",
            "nationality", "country_of_birth", "national_id", "alien_number")
    return {k: data[k] for k in keys if data.get(k)}


def document(release: Release, prepared_on: date | None = None) -> dict[str, Any]:
    """The detainer request as data; the PDF renders exactly this."""
    return {
        "format": DOCUMENT_FORMAT,
        "status": "DRAFT - not sent; requires confirmation by an authorised person",
        "prepared_on": (prepared_on or date.today()).isoformat(),
        "link_key": release.key,
        "subject": _subject(release.item.record),
        "registrant": {"registry_id": release.registry_id, **_subject(release.item.registrant)},
        "custody": {
            "index": release.index,
            "record_id": release.record_id,
            "facility": release.facility,
            "release_date": release.release_date,
        },
        "match_evidence": {
            "match_probability": round(release.match_probability, 4),
            "match_weight": round(release.match_weight, 2),
            "fields_agreed": release.item.agreement,
            "review_status": release.review_status,
        },
        "request": (
            "The requesting agency asks the custodian to notify it before the subject's "
            "release and to maintain custody for the period the law allows so that the "
            "agency may assume custody."
        ),
        "confirmation": {"confirmed_by": "", "agency": "", "date": "", "signature": ""},
        "correction": (
            "This request rests on a record match that may be wrong. The subject or the "
            "custodian may ask the requesting agency to review and correct it."
        ),
    }


def _pdf(doc: dict[str, Any], path: Path) -> None:
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    story: list[Any] = [
        Paragraph("Detainer request", styles["Title"]),
        Paragraph(doc["status"], styles["Heading3"]),
        Paragraph(f"Prepared {doc['prepared_on']} - link {doc['link_key']}", styles["Normal"]),
        Spacer(1, 10),
    ]
    for section in ("subject", "registrant", "custody", "match_evidence"):
        story.append(Paragraph(section.replace("_", " ").capitalize(), styles["Heading2"]))
        rows = [[k.replace("_", " "), _text(v)] for k, v in doc[section].items()]
        story.append(Table(rows or [["", ""]], colWidths=[140, 330]))
    story += [Paragraph("Request", styles["Heading2"]), Paragraph(doc["request"], styles["Normal"])]
    story.append(Paragraph("Confirmation (to be completed by a person)", styles["Heading2"]))
    story.append(Table([[k.replace("_", " "), "_" * 40] for k in doc["confirmation"]],
                       colWidths=[140, 330]))
    story += [Paragraph("Correction", styles["Heading2"]),
              Paragraph(doc["correction"], styles["Normal"])]
    SimpleDocTemplate(str(path), pagesize=letter, title="Detainer request (draft)").build(story)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def write_documents(releases: list[Release], out: Path,
                    prepared_on: date | None = None) -> list[tuple[Path, Path]]:
    """One JSON and one PDF per release, named by release date and link key."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rel in releases:
        doc = document(rel, prepared_on)
        stem = out / f"detainer-{rel.release_date}-{rel.key}"
        json_path, pdf_path = stem.with_suffix(".json"), stem.with_suffix(".pdf")
        json_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        _pdf(doc, pdf_path)
        written.append((json_path, pdf_path))
    log.info("wrote %d detainer-request drafts", len(written))
    return written


def as_row(release: Release) -> dict[str, Any]:
    """A flat row for listings (the CLI table, CSV)."""
    row = asdict(release)
    row.pop("item")
    return row
