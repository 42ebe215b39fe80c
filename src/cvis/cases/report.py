"""The victim-identification report: the deliverable a prosecutor needs, as plain data.

Every file that depicts an identified child (a match, not rejected, to known
media whose victim is identified), with its hashes, matched series and media,
the identifying agency and contact, the match method and distance, and the
examiner's decision; counts by category and series; and the chain of custody.
Deterministic: only ``generated_at`` differs between two runs. No imagery.

Files are counted, not scan runs: a file that several scans of the case saw (a re-run,
an overlapping folder) is listed once, its matches once each, and each match carries
the examiner's latest verdict on any of its copies.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import cvis
from cvis.cases.scan_state import mark_interrupted
from cvis.cases.service import get_case
from cvis.hashsets.contacts import SeriesBook
from cvis.store.models import (
    Evidence,
    HashSet,
    KnownMedia,
    Match,
    MatchReview,
    Scan,
    ScanItem,
    utcnow,
)

REPORT_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _match_row(
    book: SeriesBook, match: Match, media: KnownMedia, hash_set: HashSet,
    review: MatchReview | None,
) -> dict[str, Any]:
    found = book.identification(media)
    return {
        "set": hash_set.name,
        "media_id": media.media_id,
        "series": media.series,
        "category": media.category,
        "victim_identified": found.victim_identified,
        "identifying_agency": found.agency or None,
        "contact": found.contact or None,
        "method": match.signal_type,
        "distance": match.distance,
        "verdict": review.verdict if review else "pending",
        "reviewer": review.reviewer if review else None,
        "reviewed_at": _iso(review.reviewed_at) if review else None,
    } | ({"video": dict(match.video)} if match.video else {})


def _later(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Of two copies of one match (two scans of a file), the one a person decided last."""
    if (a["reviewed_at"] or "") >= (b["reviewed_at"] or ""):
        return a
    return b


def _case_matches(session: Session, case_id: int) -> dict[str, dict[tuple[Any, ...], Any]]:
    """Per file path, its matches once each (set, media, signal), with the latest verdict."""
    rows = session.execute(
        select(ScanItem, Match, KnownMedia, HashSet, MatchReview)
        .join(Scan, Scan.id == ScanItem.scan_id)
        .join(Match, Match.item_id == ScanItem.id)
        .join(KnownMedia, KnownMedia.id == Match.known_media_id)
        .join(HashSet, HashSet.id == KnownMedia.set_id)
        .outerjoin(MatchReview, MatchReview.match_id == Match.id)
        .where(Scan.case_id == case_id)
        .order_by(ScanItem.path, ScanItem.id, Match.distance, HashSet.name, KnownMedia.media_id,
                  Match.signal_type)
    )
    book = SeriesBook(session)
    by_path: dict[str, dict[tuple[Any, ...], Any]] = {}
    for item, match, media, hash_set, review in rows:
        row = _match_row(book, match, media, hash_set, review)
        found = by_path.setdefault(item.path, {})
        key = (hash_set.name, media.media_id, match.signal_type)
        found[key] = (item, _later(found[key][1], row) if key in found else row)
    return by_path


def _identified_files(
    session: Session, case_id: int
) -> tuple[list[dict[str, Any]], Counter[str], int]:
    """Files depicting an identified child; verdict counts; how many files matched at all."""
    files: list[dict[str, Any]] = []
    verdicts: Counter[str] = Counter()
    matched = _case_matches(session, case_id)
    for path, matches in matched.items():
        entry: dict[str, Any] | None = None
        for item, row in sorted(matches.values(), key=lambda m: (
                m[1]["distance"], m[1]["set"], m[1]["media_id"], m[1]["method"])):
            verdicts[row["verdict"]] += 1
            if not row["victim_identified"] or row["verdict"] == "rejected":
                continue
            if entry is None:
                entry = {"path": path, "size": item.size, "md5": item.md5, "sha1": item.sha1,
                         "sha256": item.sha256, "pdq": item.pdq, "matches": []}
                files.append(entry)
            entry["matches"].append(row)
    return files, verdicts, len(matched)


def _video_matches(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Every match of a seized video to a known video (vPDQ), with both percentages and the
    matching time ranges in both videos, so a reader sees how much of each agreed."""
    out = []
    for path, matches in _case_matches(session, case_id).items():
        for _, row in matches.values():
            if row.get("video"):
                out.append({"path": path, "set": row["set"], "media_id": row["media_id"],
                            "victim_identified": row["victim_identified"],
                            "verdict": row["verdict"], **row["video"]})
    return out


def _evidence_files(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Every file the case's scans saw, once, with the scans that saw it."""
    files: dict[str, dict[str, Any]] = {}
    items = session.scalars(
        select(ScanItem).join(Scan, Scan.id == ScanItem.scan_id)
        .where(Scan.case_id == case_id).order_by(ScanItem.path, ScanItem.scan_id)
    )
    for item in items:
        entry = files.get(item.path)
        if entry is None:
            files[item.path] = {
                "path": item.path, "size": item.size, "md5": item.md5, "sha1": item.sha1,
                "sha256": item.sha256, "pdq": item.pdq, "error": item.error,
                "scans": [item.scan_id],
            }
        elif item.scan_id not in entry["scans"]:
            entry["scans"].append(item.scan_id)
    return list(files.values())


def _counts(files: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    by_category: Counter[str] = Counter()
    by_series: Counter[str] = Counter()
    for entry in files:
        by_category.update({str(m["category"]) for m in entry["matches"]})
        by_series.update({m["series"] or "(none)" for m in entry["matches"]})
    return {"by_category": dict(sorted(by_category.items())),
            "by_series": dict(sorted(by_series.items()))}


def _custody(session: Session, case_id: int) -> dict[str, Any]:
    evidence = session.scalars(
        select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)
    )
    scans = session.scalars(select(Scan).where(Scan.case_id == case_id).order_by(Scan.id))
    return {
        "evidence": [
            {"source": e.source_path, "kind": e.kind, "size": e.size, "sha256": e.sha256,
             "acquired_by": e.acquired_by, "acquired_at": _iso(e.acquired_at)}
            for e in evidence
        ],
        "scans": [
            {"scan_id": s.id, "paths": s.paths, "status": s.status,
             "started_at": _iso(s.started_at), "finished_at": _iso(s.finished_at),
             "cvis_version": s.cvis_version, "host": s.host, "settings": s.settings,
             "items": s.item_count, "matches": s.match_count, "errors": s.error_count}
            for s in scans
        ],
    }


def build_report(
    session: Session, number: str, *, generated_at: datetime | None = None
) -> dict[str, Any]:
    case = get_case(session, number)
    mark_interrupted(session, case.id)  # a killed scan is not reported as running
    files, verdicts, matched_files = _identified_files(session, case.id)
    evidence_files = _evidence_files(session, case.id)
    return {
        "report": "cvis victim-identification report",
        "report_version": REPORT_VERSION,
        "generated_at": _iso(generated_at or utcnow()),
        "generated_by": f"cvis {cvis.__version__}",
        "case": {
            "number": case.number, "title": case.title, "agency": case.agency,
            "status": case.status, "examiners": sorted(case.examiners),
            "contact": case.contact, "opened_at": _iso(case.created_at),
        },
        "summary": {
            "files": len(evidence_files),
            "matched_files": matched_files,
            "identified_victim_files": len(files),
            "matches_confirmed": verdicts["confirmed"],
            "matches_pending_review": verdicts["pending"],
            "matches_rejected": verdicts["rejected"],
            **_counts(files),
        },
        "identified_files": files,
        "video_matches": _video_matches(session, case.id),
        "files": evidence_files,
        "chain_of_custody": _custody(session, case.id),
    }
