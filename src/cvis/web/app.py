"""The analyst web application, mounted at ``/`` by the API app beside ``/api/v1``.

Server-rendered pages over the same services and the same policy as the API:
no page decides access by itself. Every page request is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from cvis.api.services import Services
from cvis.audit.log import Actor as AuditActor
from cvis.audit.log import AuditEntry
from cvis.audit.writer import AuditUnavailable
from cvis.policy import AccessDenied, NotVisible
from cvis.web.imports import ImportJobs
from cvis.web.render import HERE, page, see_other
from cvis.web.routes import ROUTERS
from cvis.web.routes.links import StateBusy
from cvis.web.security import CsrfRefused, add_security_headers
from cvis.web.session import SignInRequired


def create_web_app(services: Services) -> FastAPI:
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.services = services
    web.state.imports = ImportJobs()
    web.middleware("http")(_audit_pages)
    web.middleware("http")(_security_headers)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in ROUTERS:
        web.include_router(router)
    web.add_exception_handler(SignInRequired, _sign_in)
    web.add_exception_handler(CsrfRefused, _refused(403, "Form refused", "csrf"))
    web.add_exception_handler(NotVisible, _refused(404, "Not found", "hidden"))
    web.add_exception_handler(AccessDenied, _refused(403, "Not allowed", "denied"))
    web.add_exception_handler(LookupError, _refused(404, "Not found", "missing"))
    web.add_exception_handler(StateBusy, _refused(503, "Busy", "busy"))
    return web


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    add_security_headers(request, response)
    return response


def _outcome(request: Request, status: int) -> str:
    given: str | None = getattr(request.state, "audit_outcome", None)
    if given:
        return given
    if status < 400:
        return "success"
    return "denied" if status in (401, 403) else "failure"


def _entry(request: Request, status: int) -> AuditEntry:
    state = request.state
    user = getattr(state, "web_user", None)
    route = getattr(request.scope.get("route"), "path", None) or request.url.path
    actor = AuditActor(
        user.name if user else getattr(state, "audit_user", ""),
        user.principal.agency if user else "",
        request.client.host if request.client else "",
    )
    return AuditEntry(
        "web", getattr(state, "audit_event", None) or f"{request.method} {route}", actor,
        _outcome(request, status), getattr(state, "audit_object", None) or request.url.path,
        getattr(state, "purpose", ""), f"HTTP {status}",
    )


async def _audit_pages(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    if request.url.path.startswith("/static/"):
        return response
    try:
        services: Services = request.app.state.services
        await run_in_threadpool(services.audit.write, _entry(request, response.status_code))
    except AuditUnavailable:
        return PlainTextResponse("The audit log cannot be written, so cvis is refusing work. "
                                 "Tell your administrator.", status_code=503)
    return response


async def _sign_in(request: Request, exc: Exception) -> Response:
    request.state.audit_outcome = "denied"
    reason = getattr(exc, "reason", "")
    target = "/signin?next=" + quote(request.url.path)
    if reason:
        target += "&reason=" + quote(reason)
    if request.headers.get("hx-request") == "true":  # htmx follows HX-Redirect, not 303
        return Response(status_code=204, headers={"HX-Redirect": target})
    return see_other(target)


def _refused(
    status: int, title: str, kind: str
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        user = getattr(request.state, "web_user", None)
        return page(request, "error.html", user, title=title, http_status=status, kind=kind,
                    message=str(exc))

    return handle
