"""Cases: list and search, a case page (evidence, scans, matches, history), reports."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from cvis.accounts.roles import CASES_EXPORT, CASES_READ
from cvis.cases.case_export import export_case
from cvis.cases.report import build_report
from cvis.cases.report_pdf import write_pdf
from cvis.cases.review import ReviewEntry, review_queue
from cvis.cases.service import show_case
from cvis.web.render import page
from cvis.web.routes.common import ServicesDep, load_case, require_right, touch, visible_cases
from cvis.web.session import UserDep

router = APIRouter()
REPORT_RIGHT = CASES_EXPORT
REPORTS = {
    "pdf": ("application/pdf", "report.pdf"),
    "json": ("application/json", "report.json"),
    "vics": ("application/json", "vics.json"),
}


@router.get("/cases")
def case_list(
    request: Request, services: ServicesDep, user: UserDep,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(pattern="^(|open|closed)$")] = "",
) -> Response:
    touch(request, f"cases q={q!r} status={status!r}", "web.cases.search")
    require_right(user, CASES_READ, "case")
    with services.store.session() as session:
        cases = visible_cases(session, user, CASES_READ)
    needle = q.strip().lower()
    shown = [c for c in cases
             if (not needle or needle in c.number.lower() or needle in c.title.lower())
             and (not status or c.status == status)]
    return page(request, "cases.html", user, title="Cases", cases=shown, q=q, status=status,
                block="results")


def _by_category_and_series(entries: list[ReviewEntry]) -> dict[str, Any]:
    by_category: Counter[str] = Counter()
    by_series: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for entry in entries:
        by_category.update({str(m.category) for m in entry.matches})
        by_series.update({m.series or "(none)" for m in entry.matches})
        verdicts.update(m.verdict or "pending" for m in entry.matches)
    return {"by_category": sorted(by_category.items()), "by_series": sorted(by_series.items()),
            "verdicts": dict(verdicts), "item_count": len(entries)}


@router.get("/cases/{number}")
def case_page(request: Request, services: ServicesDep, user: UserDep, number: str) -> Response:
    touch(request, f"case:{number}", "web.case.show", purpose=f"case {number}")
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_READ)
        detail = show_case(session, case.number)
        matched = _by_category_and_series(review_queue(session, case.number,
                                                       include_decided=True))
        unmatched = len(review_queue(session, case.number, unmatched=True))
    running = any(s["status"] == "running" for s in detail.scans)
    return page(request, "case.html", user, title=f"Case {case.number}", case=detail,
                matched=matched, unmatched=unmatched, running=running, block="scans")


@router.get("/cases/{number}/report.{format}")
def report(
    request: Request, services: ServicesDep, user: UserDep, number: str, format: str
) -> Response:
    """The victim-identification report as PDF, JSON or VICS JSON (no imagery)."""
    if format not in REPORTS:
        raise LookupError(f"No report format {format!r}: choose pdf, json or vics.")
    touch(request, f"case:{number} format:{format}", "web.report", purpose=f"case {number}")
    media_type, filename = REPORTS[format]
    with services.store.session() as session:
        case = load_case(session, user, number, REPORT_RIGHT)
        if format == "vics":
            stream = StringIO()
            export_case(session, case.number, "vics", stream)
            body = stream.getvalue().encode("utf-8")
        else:
            report_data = build_report(session, case.number)
    if format == "json":
        body = json.dumps(report_data, indent=2, sort_keys=True, ensure_ascii=False).encode()
    elif format == "pdf":
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / filename
            write_pdf(report_data, target)
            body = target.read_bytes()
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in case.number)
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{safe}-{filename}"'})
