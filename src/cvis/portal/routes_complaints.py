"""How to complain about a notice sent to a foreign government, and the form to do it.

The only way these pages touch the internal store is `ComplaintDesk.file`: a complaint in,
its reference out. Nothing here reads a notice, a complaint or anything else back.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cvis.foreign.notices import COMPLAINT_DAYS
from cvis.portal.complaints import NO_FILES, TRAP, ComplaintDesk, ComplaintInvalid
from cvis.portal.i18n import gettext, negotiate
from cvis.portal.rendering import render

router = APIRouter()


def _lang(request: Request) -> str:
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language", ""))


def _page(template: str, lang: str, status: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(render(template, lang, days=COMPLAINT_DAYS, trap=TRAP, **context),
                        status, headers={"cache-control": "no-store"})


@router.get("/complaints")
def how_to_complain(request: Request) -> Response:
    return _page("complaint_howto.html", _lang(request))


@router.get("/complaints/form")
def complaint_form(request: Request) -> Response:
    return _page("complaint_form.html", _lang(request), form={})


@router.post("/complaints")
async def file_complaint(request: Request) -> Response:
    raw = await request.form()
    lang = negotiate(str(raw.get("lang", "")))
    if any(not isinstance(v, str) for v in raw.values()):
        return _page("complaint_received.html", lang, 415, heading=gettext(lang, "Not sent"),
                     lines=[gettext(lang, NO_FILES)])
    form = {k: str(v) for k, v in raw.items()}
    desk: ComplaintDesk = request.app.state.complaints
    try:
        filed = desk.file(form, lang)
    except ComplaintInvalid as exc:
        return _page("complaint_form.html", lang, 400, form=form,
                     error=gettext(lang, str(exc)))
    return _page("complaint_received.html", lang, 201, heading=gettext(
        lang, "Your complaint was received"), lines=[gettext(
            lang, "A person reviews every complaint and answers you in writing, with an "
                  "explanation."), gettext(lang, "Keep your reference: quote it if you "
                                                 "write to us about this complaint.")],
        reference=filed.reference)
