"""Every API request leaves an audit record: who, what, outcome, from where, why."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cvis.audit.log import Actor, AuditEntry
from cvis.audit.writer import AuditUnavailable

API_PREFIX = "/api/v1"


def _outcome(status: int) -> str:
    if status < 400:
        return "success"
    return "denied" if status in (401, 403) else "failure"


def _route_path(request: Request) -> str:
    """The route's template (ids stay in the object, not the event name)."""
    path = getattr(request.scope.get("route"), "path", None) or request.url.path
    return path if path.startswith(API_PREFIX) else API_PREFIX + path


def _entry(request: Request, status: int) -> AuditEntry:
    state = request.state
    principal = getattr(state, "principal", None)
    event = getattr(state, "audit_event", None) or f"{request.method} {_route_path(request)}"
    actor = Actor(
        principal.user if principal else getattr(state, "audit_user", ""),
        principal.agency if principal else "",
        request.client.host if request.client else "",
    )
    purpose = getattr(state, "purpose", None) or request.query_params.get("purpose", "")
    obj = getattr(state, "audit_object", None) or request.url.path
    return AuditEntry("api", event, actor, _outcome(status), obj, purpose, f"HTTP {status}")


async def audit_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    if not request.url.path.startswith(API_PREFIX):
        return await call_next(request)
    response = await call_next(request)
    try:
        await run_in_threadpool(
            request.app.state.services.audit.write, _entry(request, response.status_code)
        )
    except AuditUnavailable as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return response
