"""The victim-identification report: the deliverable a prosecutor needs, as plain data.

Every file that depicts an identified child (a match, not rejected, to known
media whose victim is identified), with its hashes, matched series and media,
the identifying agency and contact, the match method and distance, and the
examiner's decision; counts by category and series; and the chain of custody.
Deterministic: only ``generated_at`` differs between two runs. No imagery.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import cvis
from cvis.cases.contacts import identification_contact
from cvis.cases.service import get_case
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
    session: Session, match: Match, media: KnownMedia, hash_set: HashSet,
    review: MatchReview | None,
) -> dict[str, Any]:
    contact = identification_contact(session, media)
    return {
        "set": hash_set.name,
        "media_id": media.media_id,
        "series": media.series,
        "category": media.category,
        "victim_identified": media.victim_identified,
        "identifying_agency": contact.agency if contact else None,
        "contact": contact.contact if contact else None,
        "method": match.signal_type,
        "distance": match.distance,
        "verdict": review.verdict if review else "pending",
        "reviewer": review.reviewer if review else None,
        "reviewed_at": _iso(review.reviewed_at) if review else None,
    }


def _identified_files(session: Session, case_id: int) -> tuple[list[dict[str, Any]], Counter[str]]:
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
    files: dict[int, dict[str, Any]] = {}
    verdicts: Counter[str] = Counter()
    for item, match, media, hash_set, review in rows:
        row = _match_row(session, match, media, hash_set, review)
        verdicts[row["verdict"]] += 1
        if not media.victim_identified or row["verdict"] == "rejected":
            continue
        entry = files.setdefault(item.id, {
            "path": item.path, "size": item.size, "md5": item.md5, "sha1": item.sha1,
            "sha256": item.sha256, "pdq": item.pdq, "matches": [],
        })
        entry["matches"].append(row)
    return list(files.values()), verdicts


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
    files, verdicts = _identified_files(session, case.id)
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
            "identified_victim_files": len(files),
            "matches_confirmed": verdicts["confirmed"],
            "matches_pending_review": verdicts["pending"],
            "matches_rejected": verdicts["rejected"],
            **_counts(files),
        },
        "identified_files": files,
        "chain_of_custody": _custody(session, case.id),
    }
