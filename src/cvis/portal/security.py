"""Strict headers on every answer and per-address rate limits (pure ASGI, cheap per request).

The CSP allows scripts only from this site (no inline script, no third party); pages may not
be framed; no referrer leaves the site; no cookies are ever set (no tracking).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cvis.portal.settings import RateLimits

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"set-cookie"]
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One bucket per (class, address); old buckets are dropped as the table grows."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str, now: float) -> bool:
        if self.rate <= 0:
            return True
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 50_000:
                self._buckets.clear()
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


def request_class(method: str, path: str) -> str:
    if method == "POST":
        return "writes"
    if path.startswith(("/registries/search", "/api/v1/registries")):
        return "searches"
    return "pages"


class RateLimit:
    """429 with Retry-After when an address asks faster than its class allows."""

    def __init__(self, app: ASGIApp, limits: RateLimits,
                 pages: TokenBuckets | None = None) -> None:
        self.app = app
        self.buckets = {  # ``pages`` is shared with the fast path for cached pages
            "pages": pages or TokenBuckets(limits.pages, limits.pages_burst),
            "writes": TokenBuckets(limits.writes, limits.writes_burst),
            "searches": TokenBuckets(limits.searches, limits.searches_burst),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = request_class(scope["method"], scope["path"])
        client = (scope.get("client") or ("?", 0))[0]
        if self.buckets[kind].allow(client, time.monotonic()):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": "too many requests: please wait a moment"}).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"retry-after", b"5"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
