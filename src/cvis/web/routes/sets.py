"""Hash sets: the list, a set's versions, what changed between two versions, and the hashes
examiners dispute (feedback and suppression); for the owner agency's curators, importing a
list with progress, lifting a suppression and granting the set to another agency."""

from __future__ import annotations

from itertools import islice
from typing import Annotated
from urllib.parse import quote as _quote

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from sqlalchemy import select

from cvis import policy
from cvis.accounts.roles import SETS_CURATE, SETS_METADATA, SETS_READ, SETS_WRITE
from cvis.audit.log import Actor as AuditActor
from cvis.hashsets.access import access_list, grant, require_set, revoke, set_resource, sets_for
from cvis.hashsets.feedback import contested_hashes, lift_suppression
from cvis.hashsets.formats import FORMATS
from cvis.hashsets.service import UnknownVersion, diff_versions, list_sets, list_versions
from cvis.policy import NotVisible
from cvis.policy.inputs import InvalidName, check_name
from cvis.signals import get_signal_type
from cvis.signals.base import InvalidSignalValue
from cvis.store.models import Agency, HashSet
from cvis.web.imports import ImportJob, ImportJobs, TooLarge, save_upload
from cvis.web.render import page, see_other
from cvis.web.routes.common import NoSuch, ServicesDep, require_right, touch
from cvis.web.session import FormUserDep, UserDep, WebUser

router = APIRouter()
DIFF_ROWS = 500


@router.get("/sets")
def set_list(
    request: Request, services: ServicesDep, user: UserDep,
    error: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    touch(request, "sets", "web.sets")
    require_right(user, SETS_READ, "set")
    with services.store.session() as session:
        visible = set(sets_for(session, user.actor, SETS_READ))
        sets = [s for s in list_sets(session) if s.name in visible]
    return page(request, "sets.html", user, title="Hash sets", sets=sets,
                may_import=user.may(SETS_WRITE), formats=sorted(FORMATS), error=error)


@router.get("/sets/{name}")
def set_page(
    request: Request, services: ServicesDep, user: UserDep, name: str,
    first: Annotated[int | None, Query(ge=0)] = None,
    last: Annotated[int | None, Query(ge=0)] = None,
    notice: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    touch(request, f"set:{name}", "web.set.show")
    require_right(user, SETS_READ, "set")
    error, changes, more, contested, access = "", [], False, [], []
    with services.store.session() as session:
        try:
            hash_set = require_set(session, user.actor, SETS_READ, name)
        except NotVisible:
            raise NoSuch(f"There is no hash set named {name!r} that you can see.") from None
        versions = list_versions(session, name)
        records = policy.decide(user.actor, SETS_METADATA,
                                set_resource(hash_set, session=session)).allowed
        if records:
            contested = contested_hashes(session, hash_set)
        rights = {right: policy.decide(user.actor, right,
                                       set_resource(hash_set, session=session)).allowed
                  for right in (SETS_WRITE, SETS_CURATE)}
        if rights[SETS_CURATE]:
            access = [(a.agency, a.can_match, a.can_see_metadata)
                      for a in access_list(session, hash_set)]
            agencies = list(session.scalars(select(Agency.name).order_by(Agency.name)))
        if records and first is not None and last is not None:
            try:
                found = list(islice(diff_versions(session, name, first, last), DIFF_ROWS + 1))
                changes, more = found[:DIFF_ROWS], len(found) > DIFF_ROWS
            except UnknownVersion as exc:
                error = f"{exc}. Choose two versions from the table."
    return page(request, "set.html", user, title=f"Hash set {name}", name=name,
                versions=versions, changes=changes, more=more, first=first, last=last,
                error=error, records=records, contested=contested, access=access,
                may_import=rights[SETS_WRITE], may_curate=rights[SETS_CURATE],
                agencies=agencies if rights[SETS_CURATE] else [], formats=sorted(FORMATS),
                notice=notice, owner=hash_set.agency)


def import_jobs(request: Request) -> ImportJobs:
    """The serving app's background imports."""
    jobs: ImportJobs = request.app.state.imports
    return jobs


def _writable(services: ServicesDep, user: WebUser, name: str) -> None:
    """A curator imports into a set of its agency, or a new set (which becomes its agency's);
    refused (404) for a set it may not know of, 403 for one it may not change."""
    require_right(user, SETS_WRITE, "set")
    try:
        check_name(name, "a set name")
    except InvalidName as exc:
        raise InvalidForm(f"{exc}. Choose another name.") from None
    with services.store.session() as session:
        if session.scalar(select(HashSet.id).where(HashSet.name == name)) is not None:
            try:
                require_set(session, user.actor, SETS_WRITE, name)
            except NotVisible:
                raise NoSuch(f"There is no hash set named {name!r} that you can see.") from None


class InvalidForm(ValueError):
    """What the curator typed cannot be used; the page says what to do."""


@router.post("/sets/import")
def start_import(
    request: Request, services: ServicesDep, user: FormUserDep,
    name: Annotated[str, Form(max_length=200)],
    file: Annotated[UploadFile | None, File(description="The hash list")] = None,
    format: Annotated[str, Form(max_length=20)] = "auto",
    skip_bad: Annotated[bool, Form()] = False,
) -> Response:
    """Start importing a list as a new version (a new set: the curator's agency's, private to
    it until shared); the answer is the progress page."""
    name = name.strip()
    filename = (file.filename if file else "") or "upload"
    touch(request, f"set:{name} file:{filename}", "web.set.import", purpose="hash-set import")
    require_right(user, SETS_WRITE, "set")
    if format != "auto" and format not in FORMATS:
        return _form_error(request, f"Choose a format from the list, not {format!r}.")
    if file is None or not file.filename:
        return _form_error(request, "Choose the hash-list file to import, then press Import.")
    try:
        _writable(services, user, name)
        path, size = save_upload(file.file, services.store.settings.home / "web-imports",
                                 services.settings.max_upload_bytes)
    except (InvalidForm, TooLarge) as exc:
        return _form_error(request, str(exc))
    job = ImportJob(0, name, filename, user.name, size)
    actor = AuditActor(user.name, user.principal.agency,
                       request.client.host if request.client else "")
    import_jobs(request).start(services.store, path, job, agency=user.principal.agency,
                               format_name=format, skip_bad=skip_bad,
                               audit=services.audit.write, actor=actor)
    return see_other(f"/sets/imports/{job.job_id}")


def _form_error(request: Request, message: str) -> Response:
    request.state.audit_outcome = "failure"
    return see_other(f"/sets?error={_quote(message)}#import-h")


@router.get("/sets/imports/{job_id}")
def import_progress(
    request: Request, services: ServicesDep, user: UserDep, job_id: int
) -> Response:
    """The import's progress (htmx polls the fragment until it ends)."""
    touch(request, f"set-import:{job_id}", "web.set.import.progress")
    require_right(user, SETS_WRITE, "set")
    job = import_jobs(request).get(job_id)
    if job is None or job.user != user.name:
        raise NoSuch("There is no such import running in this server (it may have ended "
                     "before a restart): see the set's versions.")
    return page(request, "sets/import.html", user, title=f"Importing into {job.set_name}",
                job=job, block="progress")


def _curated(services: ServicesDep, user: WebUser, name: str) -> None:
    require_right(user, SETS_CURATE, "set")
    with services.store.session() as session:
        try:
            require_set(session, user.actor, SETS_READ, name)
        except NotVisible:
            raise NoSuch(f"There is no hash set named {name!r} that you can see.") from None


@router.post("/sets/{name}/suppressions/lift")
def lift(
    request: Request, services: ServicesDep, user: FormUserDep, name: str,
    signal: Annotated[str, Form(max_length=30)],
    value: Annotated[str, Form(max_length=200)],
) -> Response:
    """The correction path: the set's curator lets every agency match on this hash again."""
    touch(request, f"set:{name} {signal}:{value}", "web.set.unsuppress",
          purpose="lift a suppression")
    _curated(services, user, name)
    try:
        kind = get_signal_type(signal)
        signal, value = kind.name, kind.validate(value)
    except (InvalidSignalValue, KeyError, ValueError):
        return see_other(f"/sets/{name}?notice=" + _quote("That is not a hash cvis knows."))
    with services.store.session() as session:
        hash_set = require_set(session, user.actor, SETS_CURATE, name)
        lifted = lift_suppression(session, hash_set, signal, value)
    if not lifted:
        request.state.audit_outcome = "failure"
    notice = (f"Lifted: every agency matches on {signal} {value[:16]}… again." if lifted
              else "That hash is not suppressed in this set.")
    return see_other(f"/sets/{name}?notice={_quote(notice)}#contested-h")


@router.post("/sets/{name}/access")
def set_access(
    request: Request, services: ServicesDep, user: FormUserDep, name: str,
    agency: Annotated[str, Form(max_length=200)],
    level: Annotated[str, Form(pattern="^(match|metadata|none)$")],
) -> Response:
    """Grant the set to another agency (match only, or metadata too), or take it back."""
    touch(request, f"set:{name} agency:{agency} level:{level}", "web.set.grant",
          purpose="share a hash set")
    _curated(services, user, name)
    with services.store.session() as session:
        hash_set = require_set(session, user.actor, SETS_CURATE, name)
        if session.scalar(select(Agency.id).where(Agency.name == agency)) is None:
            request.state.audit_outcome = "failure"
            return see_other(f"/sets/{name}?notice=" + _quote(
                f"There is no agency named {agency!r}: choose one from the list."))
        if agency == hash_set.agency:
            request.state.audit_outcome = "failure"
            return see_other(f"/sets/{name}?notice=" + _quote(
                "The owning agency always has every right on its set."))
        if level == "none":
            revoke(session, hash_set, [agency])
        else:
            grant(session, hash_set, [agency], match=True, metadata=level == "metadata")
    said = {"none": "no longer has access to", "match": "may match against (no metadata)",
            "metadata": "may match against and see the metadata of"}[level]
    return see_other(f"/sets/{name}?notice=" + _quote(f"{agency} {said} {name}.") + "#access-h")
