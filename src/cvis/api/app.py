"""The FastAPI application factory: settings, services, middleware, error mapping, routers."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

import cvis
from cvis.accounts.service import AccountError, AuthenticationFailed
from cvis.api.audit_middleware import API_PREFIX, audit_requests
from cvis.api.fast_lookup import PATH as LOOKUP_PATH
from cvis.api.fast_lookup import FastLookup
from cvis.api.limits import BodySizeLimit
from cvis.api.routes import (
    audit,
    auth,
    case_shares,
    cases,
    foreign,
    fusion,
    hashing,
    lookup,
    posters,
    scans,
    sets,
    tips,
)
from cvis.api.scan_jobs import recover
from cvis.api.services import Services
from cvis.api.settings import ServiceSettings, load_service_settings
from cvis.hashsets.feedback import UnknownMatch
from cvis.hashsets.formats import UnknownFormatError
from cvis.hashsets.service import UnknownSet
from cvis.policy import AccessDenied, NotVisible
from cvis.policy.inputs import InvalidName
from cvis.signals.base import InvalidSignalValue
from cvis.store.db import Store
from cvis.tips.scheduler import background

ERROR_STATUS: dict[type[Exception], int] = {
    InvalidSignalValue: 400,
    InvalidName: 400,
    RecursionError: 400,
    NotVisible: 404,
    AccessDenied: 403,
    UnknownMatch: 404,
    UnknownFormatError: 400,
    AccountError: 400,
    UnicodeDecodeError: 400,
    AuthenticationFailed: 401,
    UnknownSet: 404,
}


def _handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, AccessDenied):  # the policy's reason goes to the audit record
            request.state.audit_detail = exc.decision.reason
        if isinstance(exc, NotVisible):  # the same words whether it exists or not
            return JSONResponse({"detail": f"no such {exc.resource.kind}"}, status_code=404)
        if isinstance(exc, RecursionError):
            return JSONResponse({"detail": "the body's JSON is nested too deeply"}, status)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


class ApiApp(FastAPI):
    """FastAPI, with lookups that pass every check answered before the middleware stack
    (``cvis.api.fast_lookup``); everything else, and any lookup it declines, goes through
    the whole application."""

    fast: FastLookup | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast is not None and scope["type"] == "http" and scope["path"] == LOOKUP_PATH:
            left = await self.fast.handle(scope, receive, send)
            if left is None:
                return
            receive = left
        await super().__call__(scope, receive, send)


def create_app(store: Store | None = None, settings: ServiceSettings | None = None) -> FastAPI:
    """One app per worker process; its services (store, matcher, audit writer) live on it."""
    settings = settings or load_service_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """While served: the tip line's deadline reminders and escalations, if asked for."""
        if not settings.tip_scheduler:
            yield
            return
        with background(app.state.services.store):
            yield

    app = ApiApp(
        lifespan=lifespan,
        title="cvis",
        version=cvis.__version__,
        description="Known-image identification for child-protection investigations.",
    )
    app.state.services = Services.build(store or Store(), settings)
    if settings.fast_lookup and settings.cache_seconds > 0:  # it trusts cached principals only
        app.fast = FastLookup(app.state.services)
    if settings.recover_scans:  # scans whose server was killed resume when one comes back
        threading.Thread(target=recover, args=(app.state.services.store,), daemon=True).start()
    for exc_type, status in ERROR_STATUS.items():
        app.add_exception_handler(exc_type, _handler(status))
    # The audit middleware is added last so it is outermost: 413s and 500s are recorded too.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.middleware("http")(audit_requests)
    for module in (auth, hashing, lookup, sets, scans, audit, cases, fusion, tips, posters,
                   foreign, case_shares):
        app.include_router(module.router, prefix=API_PREFIX)
    from cvis.web.app import create_web_app  # the analyst web application, at /

    app.mount("/", create_web_app(app.state.services), name="web")
    return app


def freeze_heap() -> None:
    """Move the objects alive now (modules, the ORM, the application) out of the collector's
    sight, once a served process has built its application: a full collection walks every
    tracked object, and with a few hundred thousand of them a batch lookup that allocates
    ten thousand objects paid ~30 ms for it (half its answer's time)."""
    gc.collect()
    gc.freeze()
