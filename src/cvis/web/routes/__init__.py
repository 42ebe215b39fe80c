"""The page routers, in the order they are matched."""

from fastapi import APIRouter

from cvis.web.routes import (
    admin,
    audit,
    auth,
    cases,
    fusion,
    home,
    media,
    review,
    sets,
    settings,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    m.router for m in (auth, home, cases, review, media, sets, audit, admin, settings, fusion)
)
