"""Candidate series: a case's categorised, unmatched pictures grouped by near-duplicate
PDQ (new material for the national centre), regrouped on request and exported as hashes
and metadata only. Thin over cvis.cases.series, as `cvis case series` is."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response

from cvis.accounts.roles import CASES_EXPORT, CASES_READ, CASES_WRITE
from cvis.cases.review import review_queue
from cvis.cases.series import (
    DEFAULT_SERIES_DISTANCE,
    SeriesError,
    build_candidate_series,
    export_candidate_series,
    list_candidate_series,
)
from cvis.web.render import page, see_other
from cvis.web.routes.common import NoSuch, ServicesDep, load_case, touch
from cvis.web.session import FormUserDep, UserDep

router = APIRouter()
EXPORTS = {"vics": "json", "icse": "csv", "csv": "csv"}  # format -> file extension
THUMBS = 24  # thumbnails a series shows (its size says how many more)


@router.get("/cases/{number}/series")
def series_page(
    request: Request, services: ServicesDep, user: UserDep, number: str,
    notice: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    touch(request, f"case:{number} series", "web.series", purpose=f"case {number}")
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_READ)
        entries = {e.item_id: e for e in review_queue(session, case.number, unmatched=True)}
        series = [_summary(s.label, list(s.item_ids), entries, s.created_at)
                  for s in list_candidate_series(session, case.number)]
    grouped = {i for s in series for i in s["item_ids"]}
    candidates = [e for e in entries.values() if e.category is not None and e.category > 0]
    return page(request, "series/series.html", user, title=f"Candidate series {case.number}",
                case=case, series=series, notice=notice, exports=EXPORTS,
                categorised=len(candidates),
                ungrouped=len([e for e in candidates if e.item_id not in grouped]),
                distance=DEFAULT_SERIES_DISTANCE, may_regroup=user.may(CASES_WRITE),
                may_export=user.may(CASES_EXPORT))


def _summary(label: str, item_ids: list[int], entries: dict[int, Any],
             created: object) -> dict[str, Any]:
    categories = Counter(entries[i].category for i in item_ids if i in entries)
    return {"label": label, "item_ids": item_ids, "count": len(item_ids), "created": created,
            "categories": sorted((c, n) for c, n in categories.items() if c is not None),
            "items": [entries[i] for i in item_ids[:THUMBS] if i in entries]}


@router.post("/cases/{number}/series")
def regroup(
    request: Request, services: ServicesDep, user: FormUserDep, number: str,
    max_distance: Annotated[int, Form(ge=0, le=63)] = DEFAULT_SERIES_DISTANCE,
) -> Response:
    """Regroup from the case's current categorisations (a case event when it changed)."""
    touch(request, f"case:{number} series regroup", "web.series.regroup",
          purpose=f"case {number}")
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_WRITE)
        built = build_candidate_series(session, case.number, actor=user.name,
                                       max_distance=max_distance)
    notice = f"{len(built)} candidate series (pictures within PDQ distance {max_distance})."
    return see_other(f"/cases/{case.number}/series?notice={quote(notice)}")


@router.get("/cases/{number}/series/{label}/export")
def export(
    request: Request, services: ServicesDep, user: UserDep, number: str, label: str,
    format: Annotated[str, Query(pattern="^(vics|icse|csv)$")] = "vics",
) -> Response:
    """One series as a hash list (hashes and metadata only, no imagery)."""
    touch(request, f"case:{number} series:{label} format:{format}", "web.series.export",
          purpose=f"case {number}")
    stream = StringIO()
    with services.store.session() as session:
        case = load_case(session, user, number, CASES_EXPORT)
        try:
            export_candidate_series(session, case.number, label, format, stream,
                                    actor=user.name)
        except SeriesError:
            raise NoSuch(f"Case {case.number} has no candidate series {label!r}.") from None
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label)
    return Response(stream.getvalue().encode(), media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="{safe}.{EXPORTS[format]}"'})
