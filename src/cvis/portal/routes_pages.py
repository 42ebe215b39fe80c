"""The public pages: posters, photos, alerts sign-up, registries, the PWA's files."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cvis import policy
from cvis.portal import alerts, feeds, reader, registries
from cvis.portal.access import POSTERS_VIEW, PUBLIC
from cvis.portal.app import Portal
from cvis.portal.i18n import gettext, negotiate
from cvis.portal.rendering import Page, icon, render
from cvis.portal.tipline import NO_MEDIA, TipInvalid, TipLineClosed

router = APIRouter()
STATIC = reader.__file__.rsplit("/", 1)[0] + "/static"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
PAGE_CACHE = "public, max-age=60"


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _lang(request: Request) -> str:
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language", ""))


def _send(request: Request, page: Page) -> Response:
    if request.headers.get("if-none-match") == page.etag:
        return Response(status_code=304, headers={"etag": page.etag})
    return Response(page.body, page.status, media_type=page.media_type,
                    headers={"etag": page.etag, "cache-control": PAGE_CACHE,
                             "vary": "Accept-Language"})


def _html(body: bytes, status: int = 200) -> Page:
    return Page(body, "text/html; charset=utf-8", status)


@router.get("/")
def index(request: Request) -> Response:
    portal, lang = _portal(request), _lang(request)

    def build() -> Page:
        with portal.session() as session:
            posters = reader.listed_posters(session, portal.settings.captured_days)
        return _html(render("index.html", lang, posters=posters))

    return _send(request, portal.cache.get(("index", lang), build))


def _poster_page(portal: Portal, poster_id: str, lang: str) -> Page:
    with portal.session() as session:
        poster = reader.poster(session, poster_id)
    decision = policy.decide(PUBLIC, POSTERS_VIEW, policy.Resource(
        "poster", poster_id, attrs={"status": poster.status if poster else ""}))
    if poster is None or not decision.allowed:
        gone = poster is not None and poster.status == "withdrawn"
        heading = gettext(lang, "This poster was withdrawn") if gone else gettext(
            lang, "No such poster")
        return _html(render("message.html", lang, heading=heading, lines=[]), 410 if gone
                     else 404)
    base = portal.settings.public_url
    summary = poster.description or poster.caution or poster.title
    return _html(render("poster.html", lang, p=poster, base=base, summary=summary[:200],
                        url=f"{base}/posters/{poster.poster_id}"))


@router.get("/posters/{poster_id}")
def poster_page(request: Request, poster_id: str) -> Response:
    portal, lang = _portal(request), _lang(request)
    if not re.fullmatch(r"[a-z0-9-]{1,40}", poster_id):
        return _send(request, _poster_page(portal, "-", lang))
    return _send(request, portal.cache.get(("poster", poster_id, lang),
                                           lambda: _poster_page(portal, poster_id, lang)))


@router.get("/photos/{name}")
def photo(request: Request, name: str) -> Response:
    portal = _portal(request)
    digest = name.removesuffix(".jpg")
    path = portal.settings.asset_dir / f"{digest}.jpg"
    visible = portal.cache.get(("photo", digest), lambda: Page(
        b"1" if SHA256.match(digest) and _visible_photo(portal, digest) else b"", "text/plain"))
    if not visible.body or not path.is_file():
        return Response(b"not found", 404, media_type="text/plain")
    return FileResponse(path, media_type="image/jpeg",
                        headers={"cache-control": "public, max-age=86400"})


def _visible_photo(portal: Portal, digest: str) -> bool:
    with portal.session() as session:
        return reader.visible_photo(session, digest)


@router.get("/feed.atom")
def atom(request: Request) -> Response:
    portal, lang = _portal(request), _lang(request)

    def build() -> Page:
        with portal.session() as session:
            events = reader.feed_events(session, limit=100)
        body = feeds.atom_feed(portal.settings.public_url, list(reversed(events)), lang)
        return Page(body, "application/atom+xml; charset=utf-8")

    return _send(request, portal.cache.get(("atom", lang), build))


@router.get("/cap.xml")
def cap(request: Request) -> Response:
    portal = _portal(request)

    def build() -> Page:
        with portal.session() as session:
            history = reader.history(reader.feed_events(session))
        return Page(feeds.cap_feed(portal.settings.public_url, history),
                    "application/xml; charset=utf-8")

    return _send(request, portal.cache.get(("cap",), build))


@router.get("/cap/{name}")
def cap_message(request: Request, name: str) -> Response:
    portal = _portal(request)

    def build() -> Page:
        with portal.session() as session:
            history = reader.history(reader.feed_events(session))
        for events in history.values():
            for n, event in enumerate(events):
                if feeds.identifier(portal.settings.public_url, event) + ".xml" == name:
                    return Page(feeds.cap_document(portal.settings.public_url, event,
                                                   events[:n]), "application/cap+xml")
        return Page(b"not found", "text/plain", 404)

    return _send(request, portal.cache.get(("cap", name), build))


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    lang = _lang(request)
    body = {
        "name": gettext(lang, "cvis public portal"), "short_name": "cvis",
        "description": gettext(lang, "Wanted fugitives and unknown suspects: see the posters, "
                                     "send a tip, get alerts near you."),
        "start_url": f"/?lang={lang}", "scope": "/", "display": "standalone", "lang": lang,
        "background_color": "#ffffff", "theme_color": "#0b3d91",
        "icons": [{"src": f"/icons/icon-{s}.png", "sizes": f"{s}x{s}", "type": "image/png",
                   "purpose": "any maskable"} for s in (192, 512)],
    }
    return Response(json.dumps(body), media_type="application/manifest+json",
                    headers={"cache-control": "public, max-age=3600"})


@router.get("/sw.js")
def service_worker() -> Response:
    return FileResponse(f"{STATIC}/sw.js", media_type="text/javascript",
                        headers={"cache-control": "no-cache", "service-worker-allowed": "/"})


@router.get("/static/{name}")
def static(name: str) -> Response:
    types = {"portal.css": "text/css", "portal.js": "text/javascript"}
    if name not in types:
        return Response(b"not found", 404, media_type="text/plain")
    return FileResponse(f"{STATIC}/{name}", media_type=types[name],
                        headers={"cache-control": "public, max-age=3600"})


@router.get("/icons/icon-{size}.png")
def icons(size: int) -> Response:
    if size not in (192, 512):
        return Response(b"not found", 404, media_type="text/plain")
    return Response(icon(size), media_type="image/png",
                    headers={"cache-control": "public, max-age=86400"})


@router.get("/offline")
def offline(request: Request) -> Response:
    lang = _lang(request)
    return HTMLResponse(render("message.html", lang, heading=gettext(lang, "You are offline"),
                               lines=[gettext(lang, "Posters you have opened before are still "
                                                    "readable.")]))


def _alerts_page(portal: Portal, lang: str, poster: str = "", error: str = "",
                 status: int = 200) -> HTMLResponse:
    with portal.sessions.begin() as session:
        vapid = alerts.vapid_key(session).public_key
    return HTMLResponse(render("alerts.html", lang, poster=poster, error=error, vapid=vapid),
                        status)


@router.get("/alerts")
def alerts_form(request: Request, poster: str = "") -> Response:
    return _alerts_page(_portal(request), _lang(request), poster)


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    if any(not isinstance(v, str) for v in form.values()):
        raise TipInvalid(NO_MEDIA)
    return {k: str(v) for k, v in form.items()}


@router.post("/alerts")
async def alerts_subscribe(request: Request) -> Response:
    portal = _portal(request)
    try:
        form = await _form(request)
    except TipInvalid as exc:
        return HTMLResponse(str(exc), 415)
    lang = negotiate(form.get("lang"))
    try:
        radius = float(form.get("radius") or 10)
        with portal.sessions.begin() as session:
            sub = alerts.subscribe(session, channel="email",
                                   email=form.get("email", "").strip(),
                                   zip_code=form.get("zip", "").strip(), radius_miles=radius,
                                   poster_id=form.get("poster", ""), language=lang)
        alerts.send_confirmation(portal.settings, sub)
    except (alerts.SubscriptionInvalid, ValueError) as exc:
        return _alerts_page(portal, lang, form.get("poster", ""), str(exc), 400)
    return HTMLResponse(render("message.html", lang, heading=gettext(lang, "Check your email"),
                               lines=[gettext(lang, CONFIRM_FIRST), gettext(
                                   lang, "Every message has a link to unsubscribe with one "
                                   "click.")]), 201)


CONFIRM_FIRST = ("We sent you a link to confirm. Nothing is sent to you until you follow it; "
                 "an unconfirmed request is deleted after two days.")


@router.get("/alerts/confirm/{token}")
def alerts_confirm_form(request: Request, token: str) -> Response:
    """A button, not the confirmation itself: mail scanners follow links but press nothing."""
    lang = _lang(request)
    return HTMLResponse(render("message.html", lang, heading=gettext(lang, "Confirm your alerts"),
                               lines=[], confirm_token=token))


@router.post("/alerts/confirm/{token}")
def alerts_confirm(request: Request, token: str) -> Response:
    portal, lang = _portal(request), _lang(request)
    with portal.sessions.begin() as session:
        done = alerts.confirm(session, token)
    heading = gettext(lang, "Alerts confirmed") if done else gettext(
        lang, "This link has expired or was already used")
    return HTMLResponse(render("message.html", lang, heading=heading, lines=[]),
                        200 if done else 404)


@router.get("/unsubscribe/{token}")
def unsubscribe_confirm(request: Request, token: str) -> Response:
    lang = _lang(request)
    return HTMLResponse(render("message.html", lang, heading=gettext(lang, "Unsubscribe"),
                               lines=[], form_token=token))


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, token: str) -> Response:
    """One click (RFC 8058: mail clients POST here directly)."""
    portal, lang = _portal(request), _lang(request)
    with portal.sessions.begin() as session:
        gone = alerts.unsubscribe(session, token)
    heading = gettext(lang, "Unsubscribed") if gone else gettext(lang, "No such subscription")
    return HTMLResponse(render("message.html", lang, heading=heading, lines=[]),
                        200 if gone else 404)


def _tip_payload(form: dict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {"channel": "web", "narrative": form.get("narrative", ""),
                               "anonymous": form.get("anonymous") == "1"}
    urls = [u.strip() for u in form.get("urls", "").splitlines() if u.strip()]
    if urls:
        payload["urls"] = urls
    if form.get("zip", "").strip():
        payload["location"] = {"zip": form["zip"].strip()}
    if form.get("contact", "").strip() and not payload["anonymous"]:
        payload["contact"] = form["contact"].strip()
    return payload


@router.post("/tips")
async def tip_form(request: Request) -> Response:
    """The tip form on every poster: works without JavaScript."""
    portal = _portal(request)
    try:
        form = await _form(request)
    except TipInvalid as exc:
        return HTMLResponse(render("message.html", "en", heading="415", lines=[str(exc)]), 415)
    lang = negotiate(form.get("lang"))
    poster = form.get("poster", "")
    poster = poster if re.fullmatch(r"p-[0-9a-f]{8}", poster) else ""
    try:
        receipt = portal.tipline.submit(_tip_payload(form), _client(request), poster)
    except TipInvalid as exc:
        return HTMLResponse(render("message.html", lang, heading=gettext(
            lang, "The tip was not sent"), lines=[str(exc)]), 400)
    except TipLineClosed as exc:
        return HTMLResponse(render("message.html", lang, heading="503", lines=[str(exc)]), 503)
    return HTMLResponse(render(
        "message.html", lang, heading=gettext(lang, "Thank you: your tip was received"),
        lines=[gettext(lang, "A person reads every tip.")], receipt=receipt.get("receipt"),
        passphrase=receipt.get("passphrase")), 201)


@router.get("/registries")
def registry_directory(request: Request) -> Response:
    portal, lang = _portal(request), _lang(request)
    return _send(request, portal.cache.get(("registries", lang), lambda: _html(render(
        "registries.html", lang, directory=portal.search.directory, results=None))))


@router.get("/registries/search")
async def registry_search(request: Request) -> Response:
    portal, lang = _portal(request), _lang(request)
    q = request.query_params
    try:
        query = registries.make_query(first_name=q.get("first", ""), last_name=q.get("last", ""),
                                      zips=q.get("zips", ""), lat=q.get("lat", ""),
                                      lon=q.get("lon", ""), radius=q.get("radius", ""))
    except registries.QueryInvalid as exc:
        return HTMLResponse(render("registries.html", lang, directory=portal.search.directory,
                                   results=None, error=str(exc)), 400)
    with portal.session() as session:
        copies = registries.snapshots(session)
    results = await portal.search.search(query, copies)
    shown = [r for r in results if r.status != registries.NOT_CONNECTED]
    return HTMLResponse(render("registries.html", lang, directory=portal.search.directory,
                               results=shown), headers={"cache-control": "no-store"})


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/icons/icon-192.png", 301)
