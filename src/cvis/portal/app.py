"""The public application: published posters, tips in, alerts, feeds, registries.

A separate FastAPI app with its own engine, guarded so that it touches the public tables
only (``reader.guard_public_tables``); the one way into the internal store is the tip
line's intake, which returns a receipt and nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy.orm import Session, sessionmaker

from cvis.portal import reader
from cvis.portal.fastpath import CachedPages
from cvis.portal.registries import DIRECTORY, FederatedSearch, load_directory, load_endpoints
from cvis.portal.rendering import PageCache
from cvis.portal.security import RateLimit, SecurityHeaders
from cvis.portal.settings import PortalSettings, load_portal_settings
from cvis.portal.tipline import Intake, TipLine
from cvis.store.db import make_engine, schema_is_current, upgrade


@dataclass
class Portal:
    """What the routes share: settings, public sessions, page cache, tip line, search."""

    settings: PortalSettings
    sessions: sessionmaker[Session]
    cache: PageCache
    tipline: TipLine
    search: FederatedSearch

    def session(self) -> Session:
        return self.sessions()


def create_public_app(settings: PortalSettings | None = None, *,
                      intake: Intake | None = None, seen: Any = None) -> FastAPI:
    """One app per process; ``intake`` replaces the tip line's (tests), ``seen`` hears SQL."""
    settings = settings or load_portal_settings()
    engine = make_engine(settings.database_url)
    if not schema_is_current(engine):
        upgrade(engine)
    reader.guard_public_tables(engine, seen)
    sessions = sessionmaker(engine, expire_on_commit=False)

    def version() -> int:
        with sessions() as session:
            return reader.publication_version(session)

    endpoints = load_endpoints(settings.jurisdictions_file)
    directory = load_directory(endpoints, settings.registry_directory or DIRECTORY)
    portal = Portal(settings, sessions, PageCache(version, settings.cache_seconds),
                    TipLine(settings.store, intake),
                    FederatedSearch(directory, timeout=settings.jurisdiction_timeout,
                                    timeouts_before_skip=settings.timeouts_before_skip,
                                    skip_seconds=settings.skip_seconds))
    app = FastAPI(title="cvis public portal", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_lifespan)
    app.state.portal = portal
    from cvis.portal import routes_api, routes_complaints, routes_pages
    from cvis.portal.complaints import ComplaintDesk

    app.include_router(routes_pages.router)
    app.include_router(routes_api.router)
    app.include_router(routes_complaints.router)
    app.state.complaints = ComplaintDesk(settings.store)
    app.add_middleware(CachedPages, cache=portal.cache)
    app.add_middleware(RateLimit, limits=settings.limits)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(404)
    async def not_found(_request: Any, _exc: Any) -> Response:
        return Response(b"not found", 404, media_type="text/plain; charset=utf-8")

    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    portal: Portal = app.state.portal
    portal.tipline.close()
    app.state.complaints.close()
    portal.sessions.kw["bind"].dispose()
