"""Foreign work over HTTP: screen a manifest, determine hits, confirm and fetch signed
notices, approve answers to inbound requests, decide complaints, the annual figures.

Thin over the services the analyst pages and `cvis travel|notice|complaint` call
(`cvis.foreign`); every rule is the policy's (``foreign:read``, ``foreign:write``,
``foreign:confirm`` by agency): another agency's record is "no such ..." (404). A
record whose state does not allow the step (confirming twice) is a 409.

The registry a manifest is screened against is a file the deployment keeps in
``<home>/registries/`` (the file `cvis travel screen --registry` is given); a caller
names it, never a path.
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)

from cvis import policy
from cvis.accounts.roles import FOREIGN_CONFIRM, FOREIGN_READ, FOREIGN_WRITE
from cvis.api.deps import ServicesDep, acting, touch
from cvis.api.schemas.foreign import ComplaintReviewIn, DeterminationIn, InboundDecisionIn
from cvis.foreign import annual, notices, queues
from cvis.foreign.access import REPORT
from cvis.foreign.manifest import ManifestError
from cvis.foreign.travel import answer_inbound, determine, screen_manifest
from cvis.linkage.mapping import MappingError
from cvis.policy import Actor, Resource

router = APIRouter(tags=["foreign"])
Reader = Annotated[Actor, Depends(acting(FOREIGN_READ))]
Writer = Annotated[Actor, Depends(acting(FOREIGN_WRITE))]
Officer = Annotated[Actor, Depends(acting(FOREIGN_CONFIRM))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="an id (32-bit, as stored)")]
FileName = Annotated[str, Form(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
                               description="a file in <home>/registries/")]
SUFFIXES = {"paxlst": ".edi", "csv": ".csv", "json": ".json"}
STATUSES = "^(draft|confirmed|sent|failed|corrected)$"


def _registry_file(services: ServicesDep, name: str) -> FilePath:
    """A registry file the deployment placed in <home>/registries (names only, no paths)."""
    folder = (services.store.settings.home / "registries").resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise HTTPException(422, f"no registry file {name!r} in the service's registries "
                                 "folder")
    return path


def _state(exc: notices.NoticeError | ValueError) -> HTTPException:
    return HTTPException(409, str(exc))


# ---------------------------------------------------------------------- screening


@router.post("/travel/manifests", status_code=201)
def screen(request: Request, services: ServicesDep, actor: Writer,
           file: Annotated[UploadFile, File(description="PAXLST, CSV or JSON manifest")],
           registry: FileName,
           format: Annotated[str, Form(pattern="^(auto|paxlst|csv|json)$")] = "auto",
           registry_mapping: Annotated[str | None, Form(
               pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")] = None,
           threshold: Annotated[float, Form(ge=0.0, le=1.0)] = 0.5) -> dict[str, Any]:
    """Screen a whole manifest against the registry: candidates for an analyst, never a
    verdict. A malformed manifest is refused whole (422 naming its line or segment)."""
    touch(request, f"manifest registry:{registry}", "travel.screen")
    reg = _registry_file(services, registry)
    mapping = _registry_file(services, registry_mapping) if registry_mapping else None
    raw = file.file.read()
    name = FilePath(file.filename or "").suffix.lower()
    suffix = SUFFIXES.get(format, name if name in (".edi", ".paxlst", ".edifact") else "")
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / f"manifest{suffix}"
        path.write_bytes(raw)
        try:
            run = screen_manifest(services.store, actor, path, reg, fmt=format,
                                  registry_mapping=mapping, threshold=threshold)
        except ManifestError as exc:
            raise HTTPException(422, {"where": exc.where, "problem": exc.problem,
                                      "detail": f"malformed manifest, nothing kept: {exc}"}
                                ) from None
        except MappingError as exc:
            raise HTTPException(422, str(exc)) from None
    touch(request, f"screening:{run.screening_id} registry:{registry}")
    return {"screening_id": run.screening_id, "travellers": len(run.results),
            "with_candidates": sum(1 for r in run.results if r.candidates),
            "seen_before": run.seen_before, "duplicates": run.manifest.duplicates,
            "results": [r.contract() for r in run.results]}


@router.get("/travel/hits")
def hits(request: Request, services: ServicesDep, actor: Reader) -> list[dict[str, Any]]:
    """Travellers with candidates no analyst has determined yet, the soonest first."""
    touch(request, "foreign:hits", "travel.queue")
    return queues.pending_hits(services.store, actor)


@router.get("/travel/travellers/{traveller_id}")
def traveller(request: Request, services: ServicesDep, actor: Reader,
              traveller_id: Id) -> dict[str, Any]:
    """The traveller beside each candidate registrant, with the linkage's evidence."""
    touch(request, f"traveller:{traveller_id}", "travel.read")
    return queues.traveller_view(services.store, actor, traveller_id)


@router.post("/travel/travellers/{traveller_id}/determination", status_code=201)
def determination(request: Request, services: ServicesDep, actor: Writer, traveller_id: Id,
                  body: DeterminationIn) -> dict[str, Any]:
    """The analyst's determination; a covered traveller to notify gets a draft notice,
    which an officer confirms before it goes anywhere."""
    touch(request, f"traveller:{traveller_id}", "travel.determine")
    queues.traveller_view(services.store, actor, traveller_id)  # another agency's: 404
    try:
        det = determine(services.store, actor, traveller_id, body.registry_id,
                        covered=body.covered, basis=body.basis, notify=body.notify,
                        no_notice_reason=body.no_notice_reason)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    notice_id = (notices.draft_traveller_notice(services.store, actor, det)
                 if body.covered and body.notify else None)
    return {"determination_id": det, "notice_id": notice_id}


# ---------------------------------------------------------------------- notices


@router.get("/notices")
def notice_list(request: Request, services: ServicesDep, actor: Reader,
                status: Annotated[str | None, Query(pattern=STATUSES)] = None
                ) -> list[dict[str, Any]]:
    """Notices with their tracking (sent, received, answered, before departure)."""
    touch(request, f"notices status:{status or '*'}", "notice.list")
    return notices.list_notices(services.store, actor, status)


@router.get("/notices/{notice_id}")
def notice(request: Request, services: ServicesDep, actor: Reader,
           notice_id: Id) -> dict[str, Any]:
    """A notice, its life and every delivery attempt."""
    touch(request, f"notice:{notice_id}", "notice.read")
    return queues.notice_view(services.store, actor, notice_id)


@router.post("/notices/{notice_id}/confirm")
def confirm(request: Request, services: ServicesDep, actor: Officer,
            notice_id: Id) -> dict[str, Any]:
    """An officer confirms a draft: it is signed (Ed25519) and frozen."""
    touch(request, f"notice:{notice_id}", "notice.confirm")
    try:
        notices.confirm(services.store, actor, notice_id)
    except notices.NoticeError as exc:
        raise _state(exc) from None
    return queues.notice_view(services.store, actor, notice_id)


@router.get("/notices/{notice_id}/notice.json")
def notice_json(request: Request, services: ServicesDep, actor: Reader,
                notice_id: Id) -> Response:
    """The confirmed notice as machines read it: the body and its Ed25519 signature
    (`cvis.foreign.documents.verify`). A draft has none yet (409)."""
    touch(request, f"notice:{notice_id} format:json", "notice.download.json")
    try:
        body = queues.notice_file(services.store, actor, notice_id, "json")
    except notices.NoticeError as exc:
        raise _state(exc) from None
    return Response(body, media_type="application/json")


# ---------------------------------------------------------------------- inbound requests


@router.get("/inbound")
def inbound(request: Request, services: ServicesDep, actor: Reader) -> list[dict[str, Any]]:
    """Requests from foreign governments, those awaiting approval first."""
    touch(request, "inbound", "inbound.list")
    return queues.inbound_list(services.store, actor)


@router.get("/inbound/{request_id}")
def inbound_request(request: Request, services: ServicesDep, actor: Reader,
                    request_id: Id) -> dict[str, Any]:
    touch(request, f"inbound:{request_id}", "inbound.read")
    return queues.inbound_view(services.store, actor, request_id)


@router.post("/inbound/{request_id}/decision")
def inbound_decision(request: Request, services: ServicesDep, actor: Officer,
                     request_id: Id, body: InboundDecisionIn) -> dict[str, Any]:
    """The approval step: an officer approves what goes back (no recommended action)."""
    touch(request, f"inbound:{request_id}", "inbound.answer")
    queues.inbound_view(services.store, actor, request_id)  # another agency's: 404
    try:
        answer = answer_inbound(services.store, actor, request_id, covered=body.covered,
                                basis=body.basis)
    except ValueError as exc:
        raise _state(exc) from None
    return {"request_id": request_id, "answer": answer}


# ---------------------------------------------------------------------- complaints


@router.get("/complaints")
def complaints(request: Request, services: ServicesDep,
               actor: Reader) -> list[dict[str, Any]]:
    """Open complaints first (the overdue before the rest), then the decided ones."""
    touch(request, "complaints", "complaint.queue")
    return queues.complaint_queue(services.store, actor)


@router.get("/complaints/{complaint_id}")
def complaint(request: Request, services: ServicesDep, actor: Reader,
              complaint_id: Id) -> dict[str, Any]:
    touch(request, f"complaint:{complaint_id}", "complaint.read")
    return queues.complaint_view(services.store, actor, complaint_id)


@router.post("/complaints/{complaint_id}/review")
def complaint_review(request: Request, services: ServicesDep, actor: Officer,
                     complaint_id: Id, body: ComplaintReviewIn) -> dict[str, Any]:
    """Decide a complaint: upheld sends a correction (when a mail relay is set) and fixes
    the records; either way the person's letter is written. Not yet tied to a notice, or
    decided already: 409."""
    touch(request, f"complaint:{complaint_id}", "complaint.review")
    queues.complaint_view(services.store, actor, complaint_id)  # another agency's: 404
    try:
        notices.review_complaint(services.store, actor, complaint_id, upheld=body.upheld,
                                 explanation=body.explanation, prevention=body.prevention,
                                 smtp=queues.smtp_from_env())
    except notices.NoticeError as exc:
        raise _state(exc) from None
    return queues.complaint_view(services.store, actor, complaint_id)


# ---------------------------------------------------------------------- annual report


@router.get("/foreign/report/{year}")
def report(request: Request, services: ServicesDep, actor: Reader,
           year: Annotated[int, Path(ge=2000, le=2100)]) -> dict[str, Any]:
    """The programme's annual figures (counts, no person): per country, before departure,
    errors, corrections, complaints."""
    touch(request, f"foreign-report:{year}", "report.annual")
    policy.require(actor, FOREIGN_READ, Resource(REPORT, year))
    return annual.annual_json(services.store, actor, year)
