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
    posters,
    review,
    series,
    sets,
    settings,
    tips,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    m.router for m in (auth, home, cases, review, media, sets, tips, audit, admin,
                       settings, posters)
)
ROUTERS += (foreign.router, links.router, series.router, fusion.router)
