"""Rendering pages and htmx fragments: one environment, one page helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks

from cvis.accounts.roles import (
    ACCOUNTS_ADMIN,
    AUDIT_READ,
    CASES_READ,
    FUSION_READ,
    LINKAGE_READ,
    POSTERS_PUBLISH,
    SETS_READ,
)
from cvis.identify.video_match import keyframe_times, spans
from cvis.web.session import WebUser

HERE = Path(__file__).parent
templates = Jinja2Blocks(directory=str(HERE / "templates"))  # autoescaped by default
templates.env.globals["CATEGORY_NAMES"] = {
    0: "0 non-pertinent", 1: "1 child abuse material", 2: "2 child exploitive / age difficult",
    3: "3 CGI / animation", 4: "4 comparison",
}
templates.env.globals.update(keyframe_times=keyframe_times, spans=spans)  # video matches

NAV = (
    ("/", "Home", None),
    ("/cases", "Cases", CASES_READ),
    ("/sets", "Hash sets", SETS_READ),
    ("/links", "Registry links", LINKAGE_READ),
    ("/leads", "Tip line", "tips:read"),
    ("/tips/console", "Take a call", "tips:intake"),
    ("/posters", "Posters", POSTERS_PUBLISH),
    ("/targets", "Targets", FUSION_READ),
    ("/audit", "Audit", AUDIT_READ),
    ("/foreign", "Foreign notices", "foreign:read"),
    ("/admin", "Administration", ACCOUNTS_ADMIN),
    ("/settings", "Wellbeing settings", None),
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def page(
    request: Request, template: str, user: WebUser | None, *, title: str,
    block: str | None = None, http_status: int = 200, partial: bool | None = None,
    **context: Any,
) -> Response:
    """The whole page, or just ``block`` (for an htmx request, or when ``partial``)."""
    nav = [(href, label) for href, label, right in NAV
           if user is not None and (right is None or user.may(right))]
    context |= {"user": user, "title": title, "nav": nav, "path": request.url.path,
                "csrf": user.csrf if user else context.get("csrf", "")}
    if block and (is_htmx(request) if partial is None else partial):
        return templates.TemplateResponse(request, template, context, block_name=block,
                                          status_code=http_status)
    return templates.TemplateResponse(request, template, context, status_code=http_status)


def see_other(url: str) -> RedirectResponse:
    """After a form post without JavaScript: back to a page (POST/redirect/GET)."""
    return RedirectResponse(url, status_code=303)
