"""Security for the pages: strict headers, the session cookie, CSRF tokens.

The CSP allows scripts and styles from this origin only (no inline script, no
eval), refuses framing and sends no referrer. CSRF: a signed-in form carries a
token derived from the session secret (an attacker without the cookie cannot
compute it); the sign-in form, before any session exists, uses a random cookie
that the form must repeat (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

SESSION_COOKIE = "cvis_session"
SIGNIN_COOKIE = "cvis_signin"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class CsrfRefused(PermissionError):
    """A form without the right token: forged, or from a page older than the session."""


def secure_transport(request: Request) -> bool:
    return request.url.scheme == "https"


def add_security_headers(request: Request, response: Response) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    if secure_transport(request):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", path="/",
                        secure=secure_transport(request))


def session_csrf(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"cvis web csrf", hashlib.sha256).hexdigest()


def new_signin_nonce() -> str:
    return secrets.token_urlsafe(32)


def check_token(expected: str, given: object) -> None:
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise CsrfRefused("this form did not come from your current cvis session")
