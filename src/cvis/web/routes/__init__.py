"""The page routers, in the order they are matched."""

from fastapi import APIRouter

from cvis.web.routes import (
    admin,
    audit,
    auth,
    cases,
    foreign,
    fusion,
    home,
    links,
    media,
    review,
    series,
    sets,
    settings,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    m.router for m in (auth, home, cases, review, media, sets, audit, admin, settings)
)
ROUTERS += (foreign.router, links.router, series.router, fusion.router)
