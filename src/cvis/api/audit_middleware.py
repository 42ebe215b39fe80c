"""Every API request leaves an audit record, whatever its outcome (4xx, 5xx, refused bodies):
who (or the credential that failed), what and the queried value, outcome and reason, from
where, and the purpose stated.

Added last, so it is the outermost middleware: a body refused for its size (413) and an
unhandled error (500) are recorded like any other answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cvis.audit.log import Actor, AuditEntry
from cvis.audit.writer import AuditUnavailable

API_PREFIX = "/api/v1"
MAX_QUERY = 1000
log = logging.getLogger(__name__)


def _outcome(status: int) -> str:
    if status < 400:
        return "success"
    return "denied" if status in (401, 403, 404, 429) else "failure"


def _route_path(request: Request) -> str:
    """The route's template (ids stay in the object, not the event name)."""
    path = getattr(request.scope.get("route"), "path", None) or request.url.path
    return path if path.startswith(API_PREFIX) else API_PREFIX + path


def _stated_purpose(request: Request) -> str:
    state = request.state
    given = getattr(state, "purpose", None)
    if given is None:  # refused before the purpose was checked: what the caller stated
        given = request.query_params.get("purpose") or request.headers.get("x-purpose", "")
    return str(given)[:500]


def _entry(request: Request, status: int, detail: str = "") -> AuditEntry:
    state = request.state
    principal = getattr(state, "principal", None)
    event = getattr(state, "audit_event", None) or f"{request.method} {_route_path(request)}"
    actor = Actor(
        principal.user if principal else getattr(state, "audit_user", ""),
        principal.agency if principal else "",
        request.client.host if request.client else "",
    )
    obj = getattr(state, "audit_object", None) or request.url.path
    if request.url.query and status >= 400:
        obj = f"{obj} ?{request.url.query[:MAX_QUERY]}"
    reason = detail or getattr(state, "audit_detail", "")
    return AuditEntry("api", event, actor, _outcome(status), obj, _stated_purpose(request),
                      f"HTTP {status}" + (f": {reason}" if reason else ""))


async def audit_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    if not request.url.path.startswith(API_PREFIX):
        return await call_next(request)
    try:
        response = await call_next(request)
        entry = _entry(request, response.status_code)
    except Exception as exc:  # recorded, then answered as a plain 500 (no internals shown)
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        response = JSONResponse({"detail": "internal error"}, status_code=500)
        entry = _entry(request, 500, f"{type(exc).__name__}: {exc}")
    try:
        await run_in_threadpool(request.app.state.services.audit.write, entry)
    except AuditUnavailable as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return response
