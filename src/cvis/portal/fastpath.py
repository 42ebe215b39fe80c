"""Cached pages answered before routing: the hot path for posters and the index.

A GET for ``/`` or ``/posters/{id}`` whose page is in the cache is answered here with the
same headers the route would send (the security headers are added outside this layer);
anything else goes on to the application, which builds and caches the page.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from cvis.portal.i18n import negotiate
from cvis.portal.rendering import PageCache

PAGE_CACHE = b"public, max-age=60"


def cache_key(path: str, query: bytes, accept_language: str) -> tuple[str, ...] | None:
    asked = parse_qs(query.decode("latin-1")).get("lang", [None])[0] if query else None
    lang = negotiate(asked, accept_language)
    if path == "/":
        return ("index", lang)
    if path.startswith("/posters/") and path.count("/") == 2:
        return ("poster", path[9:], lang)
    return None


class CachedPages:
    def __init__(self, app: ASGIApp, cache: PageCache) -> None:
        self.app, self.cache = app, cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = cache_key(scope["path"], scope.get("query_string", b""),
                        headers.get(b"accept-language", b"").decode("latin-1"))
        page = self.cache.peek(key) if key else None
        if page is None:
            await self.app(scope, receive, send)
            return
        etag = page.etag.encode()
        if headers.get(b"if-none-match") == etag:
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(b"etag", etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": page.status, "headers": [
            (b"content-type", page.media_type.encode()),
            (b"content-length", str(len(page.body)).encode()), (b"etag", etag),
            (b"cache-control", PAGE_CACHE), (b"vary", b"Accept-Language")]})
        await send({"type": "http.response.body", "body": page.body})
