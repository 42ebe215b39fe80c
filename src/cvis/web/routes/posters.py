"""Most-wanted posters in the analyst application: the list (with fusion's nominations), the
editor, and publish / update / captured / withdraw, each through ``cvis.portal.drafts``
(which asks the one policy and audits)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from cvis.accounts.roles import POSTERS_PUBLISH
from cvis.portal import drafts
from cvis.portal.posters import KINDS, PosterInvalid
from cvis.portal.settings import PortalSettings, load_portal_settings
from cvis.web.render import page, see_other
from cvis.web.routes.common import ServicesDep, require_right, touch
from cvis.web.session import FormUserDep, UserDep, WebUser

router = APIRouter()


def _portal_settings(services: ServicesDep) -> PortalSettings:
    return load_portal_settings(services.store.settings)


async def _draft_form(request: Request) -> drafts.DraftForm:
    """The editor's fields (text only, each bounded)."""
    form = await request.form()
    fields = {name: str(form.get(name, ""))[:4000]
              for name in drafts.DraftForm.__dataclass_fields__}
    return drafts.DraftForm(**fields)


def _editor(request: Request, user: WebUser, form: drafts.DraftForm, *,
            record: Any = None, status: int = 200, **context: Any) -> Response:
    title = f"Poster {record.draft_id}" if record else "New poster"
    return page(request, "posters/edit.html", user, title=title, form=form, record=record,
                kinds=KINDS, http_status=status, **context)


@router.get("/posters")
def poster_list(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, "posters", "web.posters")
    require_right(user, POSTERS_PUBLISH, "poster")
    records = drafts.list_drafts(services.store, user.actor)
    by_status = {s: [r for r in records if r.status == s] for s in drafts.STATUSES}
    return page(request, "posters/list.html", user, title="Most-wanted posters",
                by_status=by_status, nominations=drafts.nominations(services.store, user.actor),
                public_url=_portal_settings(services).public_url)


@router.get("/posters/new")
def poster_new(request: Request, user: UserDep, subject: str = "") -> Response:
    touch(request, f"poster-draft:new subject={subject!r}", "web.poster.new")
    require_right(user, POSTERS_PUBLISH, "poster")
    return _editor(request, user, drafts.DraftForm(subject_id=subject[:40]))


@router.post("/posters/new")
async def poster_create(request: Request, services: ServicesDep, user: FormUserDep) -> Response:
    touch(request, "poster-draft:new", "web.poster.create")
    require_right(user, POSTERS_PUBLISH, "poster")
    form = await _draft_form(request)
    try:
        draft_id = drafts.create(services.store, user.actor, form)
    except PosterInvalid as exc:
        request.state.audit_outcome = "failure"
        return _editor(request, user, form, error=str(exc), status=400)
    return see_other(f"/posters/{draft_id}?saved=1")


@router.get("/posters/{draft_id}")
def poster_edit(request: Request, services: ServicesDep, user: UserDep, draft_id: str,
                saved: str = "", done: str = "") -> Response:
    touch(request, f"poster-draft:{draft_id}", "web.poster.show")
    require_right(user, POSTERS_PUBLISH, "poster")
    record = drafts.get_draft(services.store, user.actor, draft_id)
    notice = {"1": "Saved. Nothing changes on the public site until you publish."}.get(saved, "")
    return _editor(request, user, drafts.DraftForm.of(record), record=record,
                   notice=notice or DONE.get(done, ""),
                   public_url=_portal_settings(services).public_url)


DONE = {"published": "Published: it is on the public site, in the feeds, and subscribers "
                     "near its areas were alerted.",
        "captured": "Marked captured: the public poster shows a banner.",
        "withdrawn": "Withdrawn: it is off the public site and the CAP feed carries a Cancel."}


@router.post("/posters/{draft_id}")
async def poster_save(request: Request, services: ServicesDep, user: FormUserDep,
                      draft_id: str) -> Response:
    touch(request, f"poster-draft:{draft_id}", "web.poster.save")
    require_right(user, POSTERS_PUBLISH, "poster")
    form = await _draft_form(request)
    try:
        drafts.save(services.store, user.actor, draft_id, form)
    except PosterInvalid as exc:
        request.state.audit_outcome = "failure"
        record = drafts.get_draft(services.store, user.actor, draft_id)
        return _editor(request, user, form, record=record, error=str(exc), status=400)
    return see_other(f"/posters/{draft_id}?saved=1")


def _act(request: Request, services: ServicesDep, user: WebUser, draft_id: str,
         done: str, action: Any) -> Response:
    require_right(user, POSTERS_PUBLISH, "poster")
    try:
        action(services.store, _portal_settings(services), user.actor, draft_id)
    except PosterInvalid as exc:
        request.state.audit_outcome = "failure"
        record = drafts.get_draft(services.store, user.actor, draft_id)
        return _editor(request, user, drafts.DraftForm.of(record), record=record,
                       error=str(exc), status=409)
    return see_other(f"/posters/{draft_id}?done={done}")


@router.post("/posters/{draft_id}/publish")
def poster_publish(request: Request, services: ServicesDep, user: FormUserDep,
                   draft_id: str) -> Response:
    touch(request, f"poster-draft:{draft_id}", "web.poster.publish")
    return _act(request, services, user, draft_id, "published", drafts.publish)


@router.post("/posters/{draft_id}/captured")
def poster_captured(request: Request, services: ServicesDep, user: FormUserDep, draft_id: str,
                    note: Annotated[str, Form(max_length=500)] = "") -> Response:
    touch(request, f"poster-draft:{draft_id}", "web.poster.captured")
    return _act(request, services, user, draft_id, "captured",
                lambda store, settings, actor, d: drafts.captured(store, settings, actor, d,
                                                                  note))


@router.post("/posters/{draft_id}/withdraw")
def poster_withdraw(request: Request, services: ServicesDep, user: FormUserDep, draft_id: str,
                    reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    touch(request, f"poster-draft:{draft_id} reason={reason!r}", "web.poster.withdraw")
    return _act(request, services, user, draft_id, "withdrawn",
                lambda store, settings, actor, d: drafts.withdraw(store, settings, actor, d,
                                                                  reason))


@router.get("/posters/{draft_id}/portrait-{position}.png")
def poster_portrait(request: Request, services: ServicesDep, user: UserDep, draft_id: str,
                    position: int) -> Response:
    """The generated drawing the poster will carry (never a photograph of a person)."""
    touch(request, f"poster-draft:{draft_id} portrait {position}", "web.poster.portrait")
    require_right(user, POSTERS_PUBLISH, "poster")
    record = drafts.get_draft(services.store, user.actor, draft_id)
    if not 0 <= position < len(record.captions):
        raise LookupError("No such portrait.")
    with tempfile.TemporaryDirectory() as folder:
        body = drafts.portrait(record, position, Path(folder)).read_bytes()
    return Response(body, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})
