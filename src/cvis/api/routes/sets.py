"""Hash sets: list, show, versions, import upload, export, feedback."""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from cvis.accounts.roles import SETS_FEEDBACK, SETS_READ, SETS_WRITE
from cvis.accounts.service import Principal
from cvis.api.deps import ServicesDep, require, touch
from cvis.api.schemas.sets import FeedbackIn, ImportOut, SetOut, VersionOut
from cvis.api.services import Services
from cvis.api.visibility import visible_set_names
from cvis.hashsets.feedback import UnknownMatch, match_set_name, record_feedback
from cvis.hashsets.service import (
    ImportRejected,
    export_set,
    import_stream,
    list_sets,
    list_versions,
)

router = APIRouter(prefix="/sets", tags=["hash sets"])
Reader = Annotated[Principal, Depends(require(SETS_READ))]


def _check_visible(services: Services, principal: Principal, name: str) -> None:
    with services.store.session() as session:
        if name not in visible_set_names(session, principal.agency):
            raise HTTPException(404, f"no hash set named {name!r} visible to you")


@router.get("", response_model=list[SetOut])
def list_route(request: Request, services: ServicesDep, principal: Reader) -> list[SetOut]:
    touch(request, "hash sets", "sets.list")
    with services.store.session() as session:
        visible = visible_set_names(session, principal.agency)
        return [SetOut(**vars(s)) for s in list_sets(session) if s.name in visible]


@router.get("/{name}", response_model=SetOut)
def show_route(name: str, request: Request, services: ServicesDep, principal: Reader) -> SetOut:
    touch(request, f"set:{name}", "sets.show")
    _check_visible(services, principal, name)
    with services.store.session() as session:
        return next(SetOut(**vars(s)) for s in list_sets(session) if s.name == name)


@router.get("/{name}/versions", response_model=list[VersionOut])
def versions_route(
    name: str, request: Request, services: ServicesDep, principal: Reader
) -> list[dict[str, Any]]:
    touch(request, f"set:{name}", "sets.versions")
    _check_visible(services, principal, name)
    with services.store.session() as session:
        return [
            asdict(v) | {"imported_at": v.imported_at.isoformat()}
            for v in list_versions(session, name)
        ]


@router.post("/{name}/import", response_model=ImportOut)
def import_route(
    name: str,
    request: Request,
    services: ServicesDep,
    _: Annotated[Principal, Depends(require(SETS_WRITE))],
    file: Annotated[UploadFile, File(description="The hash list")],
    format: Annotated[str, Form(max_length=20)] = "auto",
    skip_bad: Annotated[bool, Form()] = False,
) -> Any:
    """All or nothing unless skip_bad: a rejected list leaves the set as it was."""
    touch(request, f"set:{name} file:{file.filename}", "sets.import")
    if not name.strip() or len(name) > 200:
        raise HTTPException(400, "a set name must be 1 to 200 characters")
    stream = io.TextIOWrapper(file.file, encoding="utf-8-sig", newline="")
    try:
        with services.store.session() as session:
            report = import_stream(session, stream, name=name, format_name=format,
                                   skip_bad=skip_bad, source_file=file.filename or "")
    except ImportRejected as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    return ImportOut(set=report.set_name, version=report.version, format=report.format,
                     added=report.added, updated=report.updated, removed=report.removed,
                     skipped=report.error_count)


@router.get("/{name}/export")
def export_route(
    name: str, request: Request, services: ServicesDep, principal: Reader, format: str = "csv"
) -> Response:
    touch(request, f"set:{name} format:{format}", "sets.export")
    _check_visible(services, principal, name)
    out = io.StringIO()
    with services.store.session() as session:
        export_set(session, name, format, out)
    return Response(out.getvalue(), media_type="text/plain; charset=utf-8")


@router.post("/{name}/feedback", status_code=201)
def feedback_route(
    name: str,
    body: FeedbackIn,
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(SETS_FEEDBACK))],
) -> dict[str, str]:
    touch(request, f"set:{name} match:{body.match_id} verdict:{body.verdict}", "sets.feedback")
    _check_visible(services, principal, name)
    try:
        with services.store.session() as session:
            if match_set_name(session, body.match_id) != name:
                raise UnknownMatch(f"no match {body.match_id} against set {name!r}")
            record_feedback(session, body.match_id, body.verdict, examiner=principal.user,
                            agency=principal.agency, note=body.note)
    except UnknownMatch as exc:
        raise HTTPException(404, str(exc)) from None
    return {"status": "recorded"}
