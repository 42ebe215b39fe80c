"""The portal's JSON endpoints: tips (the design contract), subscriptions, registry search."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cvis.portal import alerts, registries
from cvis.portal.app import Portal
from cvis.portal.tipline import NO_MEDIA, TipInvalid, TipLineClosed

router = APIRouter(prefix="/api/v1")


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


async def _json_body(request: Request) -> Any:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.startswith("multipart/") or kind.startswith(("image/", "video/")):
        raise _Refused(415, NO_MEDIA)
    try:
        return json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Refused(400, "the body is not JSON") from None


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status)


@router.post("/tips")
async def submit_tip(request: Request) -> JSONResponse:
    """``cvis tip submit``'s JSON, channel web: 201 with the receipt; never media."""
    try:
        payload = await _json_body(request)
        client = request.client.host if request.client else ""
        receipt = _portal(request).tipline.submit(payload, client)
    except _Refused as exc:
        return _error(exc.status, exc.detail)
    except TipInvalid as exc:
        return _error(400, str(exc))
    except TipLineClosed as exc:
        return _error(503, str(exc))
    return JSONResponse(receipt, 201)


@router.post("/subscriptions")
async def subscribe(request: Request) -> JSONResponse:
    """Web push (or email) alerts for an area or a poster; answers the unsubscribe link."""
    portal = _portal(request)
    try:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise _Refused(400, "a subscription is a JSON object")
        with portal.sessions.begin() as session:
            sub = alerts.subscribe(
                session, channel=str(body.get("channel", "")), email=str(body.get("email", "")),
                push=body.get("push"), zip_code=str(body.get("zip") or ""),
                radius_miles=float(body.get("radius_miles") or 10),
                poster_id=str(body.get("poster") or ""), language=str(body.get("language", "en")),
                allow_loopback=portal.settings.push_to_loopback)
            token = sub.token
        alerts.send_confirmation(portal.settings, sub)
    except _Refused as exc:
        return _error(exc.status, exc.detail)
    except (alerts.SubscriptionInvalid, TypeError, ValueError) as exc:
        return _error(400, str(exc))
    return JSONResponse({"unsubscribe": f"{portal.settings.public_url}/unsubscribe/{token}"}, 201)


@router.get("/vapid")
def vapid(request: Request) -> JSONResponse:
    with _portal(request).sessions.begin() as session:
        return JSONResponse({"public_key": alerts.vapid_key(session).public_key})


@router.get("/registries/search")
async def registry_search(request: Request) -> JSONResponse:
    """The federated search as JSON: one entry per connected jurisdiction, with its status."""
    portal, q = _portal(request), request.query_params
    try:
        query = registries.make_query(first_name=q.get("first", ""), last_name=q.get("last", ""),
                                      zips=q.get("zips", ""), lat=q.get("lat", ""),
                                      lon=q.get("lon", ""), radius=q.get("radius", ""))
    except registries.QueryInvalid as exc:
        return _error(400, str(exc))
    with portal.session() as session:
        copies = registries.snapshots(session)
    results = await portal.search.search(query, copies)
    return JSONResponse({"jurisdictions": [
        {"jurisdiction": asdict(r.jurisdiction) | {"endpoint": None}, "status": r.status,
         "message": r.message, "copy_date": r.copy_date, "offenders": r.offenders}
        for r in results if r.status != registries.NOT_CONNECTED]},
        headers={"cache-control": "no-store"})
