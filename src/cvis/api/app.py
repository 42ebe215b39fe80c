"""The FastAPI application factory: settings, services, middleware, error mapping, routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import cvis
from cvis.accounts.service import AccountError, AuthenticationFailed
from cvis.api.audit_middleware import API_PREFIX, audit_requests
from cvis.api.limits import BodySizeLimit
from cvis.api.routes import audit, auth, cases, hashing, lookup, posters, scans, sets, tips
from cvis.api.services import Services
from cvis.api.settings import ServiceSettings, load_service_settings
from cvis.hashsets.formats import UnknownFormatError
from cvis.hashsets.service import UnknownSet
from cvis.identify.matcher import UnknownSetError
from cvis.signals.base import InvalidSignalValue
from cvis.store.db import Store

ERROR_STATUS: dict[type[Exception], int] = {
    InvalidSignalValue: 400,
    UnknownFormatError: 400,
    AccountError: 400,
    UnicodeDecodeError: 400,
    AuthenticationFailed: 401,
    UnknownSet: 404,
    UnknownSetError: 404,
}


def _handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


def create_app(store: Store | None = None, settings: ServiceSettings | None = None) -> FastAPI:
    """One app per worker process; its services (store, matcher, audit writer) live on it."""
    app = FastAPI(
        title="cvis",
        version=cvis.__version__,
        description="Known-image identification for child-protection investigations.",
    )
    settings = settings or load_service_settings()
    app.state.services = Services.build(store or Store(), settings)
    for exc_type, status in ERROR_STATUS.items():
        app.add_exception_handler(exc_type, _handler(status))
    app.middleware("http")(audit_requests)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    for module in (auth, hashing, lookup, sets, scans, audit, cases, tips):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(posters.router, prefix=API_PREFIX)
    return app
