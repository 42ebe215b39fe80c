"""Who is signed in: the session cookie, checked on every page like an API token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from cvis.accounts.credentials import token_digest
from cvis.accounts.service import AuthenticationFailed, Principal, authenticate_token
from cvis.api.services import Services
from cvis.policy import Actor
from cvis.policy.actors import from_principal
from cvis.store.models import ApiToken
from cvis.web.security import SESSION_COOKIE, CsrfRefused, check_token, session_csrf


class SignInRequired(Exception):
    """No session, or one that ended (idle lock, sign-out, expiry): the page asks to sign in."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebUser:
    principal: Principal
    actor: Actor
    csrf: str

    @property
    def name(self) -> str:
        return self.principal.user

    @property
    def session_id(self) -> int | None:
        return self.principal.token_id

    def may(self, right: str) -> bool:
        return self.actor.holds(right)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _authenticate(services: Services, token: str) -> Principal:
    failure: AuthenticationFailed | None = None
    with services.store.session() as session:
        try:
            return authenticate_token(session, token)
        except AuthenticationFailed as exc:  # committed: an idle session stays locked
            failure = exc
    raise failure


def web_user(request: Request) -> WebUser:
    """The signed-in examiner, or SignInRequired (answered with the sign-in page)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise SignInRequired()
    services = services_of(request)
    try:
        principal = services.principals.get(
            token_digest(token), lambda: _authenticate(services, token)
        )
    except AuthenticationFailed as exc:
        raise SignInRequired(str(exc)) from None
    if not principal.interactive:  # an API token is not a browser session
        raise SignInRequired("sign in with your password and code")
    user = WebUser(principal, from_principal(principal), session_csrf(token))
    request.state.web_user = user
    return user


async def form_user(request: Request) -> WebUser:
    """The signed-in examiner, for a form post: the form's CSRF token must match the session."""
    user = web_user(request)
    form = await request.form()
    try:
        check_token(user.csrf, form.get("csrf"))
    except CsrfRefused:
        request.state.audit_outcome = "denied"
        raise
    return user


def session_started(services: Services, user: WebUser) -> datetime | None:
    with services.store.session() as session:
        row = session.get(ApiToken, user.session_id) if user.session_id else None
        return row.created_at if row else None


UserDep = Annotated[WebUser, Depends(web_user)]
FormUserDep = Annotated[WebUser, Depends(form_user)]
