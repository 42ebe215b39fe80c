"""Hash sets: list, show, versions, import upload, export, feedback, suppressions.

Every route asks the policy about the particular set (``require_set``); a set the
caller may not know of is answered 404, exactly as one that does not exist.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import JSONResponse
from sqlalchemy import select

from cvis import policy
from cvis.accounts.roles import (
    SETS_CURATE,
    SETS_EXPORT,
    SETS_FEEDBACK,
    SETS_METADATA,
    SETS_READ,
    SETS_WRITE,
)
from cvis.api.deps import ServicesDep, acting, touch
from cvis.api.schemas.sets import FeedbackIn, ImportOut, SetOut, SuppressIn, VersionOut
from cvis.digests import stream_sha256
from cvis.hashsets.access import create_owned_set, require_set, sets_for
from cvis.hashsets.feedback import (
    UnknownMatch,
    lift_suppression,
    match_resource,
    record_feedback,
    suppress_for_everyone,
)
from cvis.hashsets.service import (
    ImportRejected,
    export_set,
    import_stream,
    list_sets,
    list_versions,
)
from cvis.policy import Actor
from cvis.policy.inputs import InvalidName, check_name
from cvis.signals import get_signal_type
from cvis.signals.base import InvalidSignalValue
from cvis.store.models import HashSet

router = APIRouter(prefix="/sets", tags=["hash sets"])
Reader = Annotated[Actor, Depends(acting(SETS_READ))]


@router.get("", response_model=list[SetOut])
def list_route(request: Request, services: ServicesDep, actor: Reader) -> list[SetOut]:
    touch(request, "hash sets", "sets.list")
    with services.store.session() as session:
        visible = set(sets_for(session, actor, SETS_READ))
        return [SetOut(**vars(s)) for s in list_sets(session) if s.name in visible]


@router.get("/{name}", response_model=SetOut)
def show_route(
    name: str, request: Request, services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SETS_METADATA))],
) -> SetOut:
    touch(request, f"set:{name}", "sets.show")
    with services.store.session() as session:
        require_set(session, actor, SETS_METADATA, name)
        return next(SetOut(**vars(s)) for s in list_sets(session) if s.name == name)


@router.get("/{name}/versions", response_model=list[VersionOut])
def versions_route(
    name: str, request: Request, services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SETS_METADATA))],
) -> list[dict[str, Any]]:
    touch(request, f"set:{name}", "sets.versions")
    with services.store.session() as session:
        require_set(session, actor, SETS_METADATA, name)
        return [
            asdict(v) | {"imported_at": v.imported_at.isoformat()}
            for v in list_versions(session, name)
        ]


@router.post("/{name}/import", response_model=ImportOut)
def import_route(
    name: str,
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SETS_WRITE))],
    file: Annotated[UploadFile, File(description="The hash list")],
    format: Annotated[str, Form(max_length=20)] = "auto",
    skip_bad: Annotated[bool, Form()] = False,
) -> Any:
    """All or nothing unless skip_bad: a rejected list leaves the set as it was. A new set
    belongs to the caller's agency (private to it until shared)."""
    touch(request, f"set:{name} file:{file.filename}", "sets.import")
    try:
        check_name(name, "a set name")
    except InvalidName as exc:
        raise HTTPException(400, str(exc)) from None
    sha256 = stream_sha256(file.file)
    file.file.seek(0)
    stream = io.TextIOWrapper(file.file, encoding="utf-8-sig", newline="")
    try:
        with services.store.session() as session:
            if session.scalar(select(HashSet.id).where(HashSet.name == name)) is not None:
                require_set(session, actor, SETS_WRITE, name)
            else:
                create_owned_set(session, name, actor.agency)
            report = import_stream(session, stream, name=name, format_name=format,
                                   skip_bad=skip_bad, source_file=file.filename or "",
                                   source_sha256=sha256)
    except ImportRejected as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    request.state.audit_detail = f"source sha256 {sha256}"
    return ImportOut(set=report.set_name, version=report.version, format=report.format,
                     added=report.added, updated=report.updated, removed=report.removed,
                     skipped=report.error_count)


@router.get("/{name}/export")
def export_route(
    name: str, request: Request, services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SETS_EXPORT))],
    format: Annotated[str, Query(max_length=20)] = "csv",
) -> Response:
    touch(request, f"set:{name} format:{format}", "sets.export")
    out = io.StringIO()
    with services.store.session() as session:
        require_set(session, actor, SETS_EXPORT, name)
        export_set(session, name, format, out)
    return Response(out.getvalue(), media_type="text/plain; charset=utf-8")


@router.post("/{name}/feedback", status_code=201)
def feedback_route(
    name: str,
    body: FeedbackIn,
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SETS_FEEDBACK))],
) -> dict[str, str]:
    """An agency's verdict on a match of one of its own cases; a false positive hides the
    hash from this agency's matches only."""
    touch(request, f"set:{name} match:{body.match_id} verdict:{body.verdict}", "sets.feedback")
    with services.store.session() as session:
        require_set(session, actor, SETS_READ, name)
        match = match_resource(session, body.match_id)
        if match is None or match.attrs["set"].id != name:
            raise UnknownMatch(f"no match {body.match_id} against set {name!r} visible to you")
        policy.require(actor, SETS_FEEDBACK, match)
        record_feedback(session, body.match_id, body.verdict, examiner=actor.name,
                        agency=actor.agency, note=body.note)
    services.suppressed.forget(actor.agency)
    return {"status": "recorded", "scope": f"agency {actor.agency}"}


def _hash(signal: str, value: str) -> tuple[str, str]:
    try:
        kind = get_signal_type(signal)
        return kind.name, kind.validate(value)
    except InvalidSignalValue as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/{name}/suppressions", status_code=201)
def suppress_route(
    name: str, body: SuppressIn, request: Request, services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SETS_CURATE))],
) -> dict[str, str]:
    """The set owner's curator's decision: no agency matches on this hash any more."""
    signal, value = _hash(body.signal, body.value)
    touch(request, f"set:{name} {signal}:{value}", "sets.suppress")
    with services.store.session() as session:
        hash_set = require_set(session, actor, SETS_CURATE, name)
        suppress_for_everyone(session, hash_set, signal, value, curator=actor.name,
                              agency=actor.agency, reason=body.reason)
    return {"status": "suppressed for every agency"}


@router.delete("/{name}/suppressions", status_code=200)
def lift_route(
    name: str, request: Request, services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SETS_CURATE))],
    signal: Annotated[str, Query(max_length=30)],
    value: Annotated[str, Query(max_length=200)],
) -> dict[str, str]:
    """Lift a suppression for everyone (the correction path)."""
    signal, value = _hash(signal, value)
    touch(request, f"set:{name} {signal}:{value}", "sets.unsuppress")
    with services.store.session() as session:
        hash_set = require_set(session, actor, SETS_CURATE, name)
        if not lift_suppression(session, hash_set, signal, value):
            raise HTTPException(404, "that hash is not suppressed in this set")
    return {"status": "lifted"}
