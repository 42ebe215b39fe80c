"""Cached pages answered before any middleware or routing: the hot path for posters.

``PublicApp`` is the portal's FastAPI app with one change: a GET for ``/`` or
``/posters/{id}`` whose page is in the cache is answered at the door, with every header the
slow path would send (security headers included, computed once per cached page) and the
same per-address page limit. Anything else, a miss, or a client over its limit goes through
the whole application, which builds and caches the page (or answers 429).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from cvis.portal.i18n import negotiate
from cvis.portal.rendering import Page, PageCache
from cvis.portal.security import SECURITY_HEADERS, TokenBuckets

PAGE_CACHE = b"public, max-age=60"


def cache_key(path: str, query: bytes, accept_language: str) -> tuple[str, ...] | None:
    asked = parse_qs(query.decode("latin-1")).get("lang", [None])[0] if query else None
    lang = negotiate(asked, accept_language)
    if path == "/":
        return ("index", lang)
    if path.startswith("/posters/") and path.count("/") == 2:
        return ("poster", path[9:], lang)
    return None


def wire_headers(page: Page) -> list[tuple[bytes, bytes]]:
    """The whole header list of a cached page, as the slow path would send it."""
    return [(b"content-type", page.media_type.encode()),
            (b"content-length", str(len(page.body)).encode()), (b"etag", page.etag.encode()),
            (b"cache-control", PAGE_CACHE), (b"vary", b"Accept-Language"), *SECURITY_HEADERS]


class FastPath:
    def __init__(self, cache: PageCache, pages: TokenBuckets) -> None:
        self.cache, self.pages = cache, pages
        self._wired: dict[int, list[tuple[bytes, bytes]]] = {}

    def _headers(self, page: Page) -> list[tuple[bytes, bytes]]:
        wired = self._wired.get(id(page))
        if wired is None or wired[2][1] != page.etag.encode():
            if len(self._wired) > 10_000:
                self._wired.clear()
            wired = self._wired[id(page)] = wire_headers(page)
        return wired

    async def answer(self, scope: Scope, send: Send, now: float) -> bool:
        """True when the cached page was sent; False sends nothing (take the slow path)."""
        if scope["method"] != "GET":
            return False
        headers = dict(scope["headers"])
        key = cache_key(scope["path"], scope.get("query_string", b""),
                        headers.get(b"accept-language", b"").decode("latin-1"))
        page = self.cache.peek(key) if key else None
        if page is None:
            return False
        if not self.pages.allow((scope.get("client") or ("?", 0))[0], now):
            return False  # the application answers the 429
        wired = self._headers(page)
        if headers.get(b"if-none-match") == wired[2][1]:
            await send({"type": "http.response.start", "status": 304,
                        "headers": [wired[2], *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": b""})
            return True
        await send({"type": "http.response.start", "status": page.status, "headers": wired})
        await send({"type": "http.response.body", "body": page.body})
        return True


class PublicApp(FastAPI):
    """FastAPI, with cached pages served before the middleware stack."""

    fast: FastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.fast is not None:
            if await self.fast.answer(scope, send, time.monotonic()):
                return
        await super().__call__(scope, receive, send)
