"""Sign-in with password and TOTP, and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from cvis.accounts.credentials import token_digest
from cvis.accounts.service import (
    LOCKOUT,
    MAX_FAILED_LOGONS,
    SESSION_IDLE,
    AuthenticationFailed,
    logon,
    revoke_token,
)
from cvis.web.render import page, see_other
from cvis.web.routes.common import ServicesDep, touch
from cvis.web.security import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    check_token,
    new_signin_nonce,
    set_cookie,
)
from cvis.web.session import FormUserDep, SignInRequired, web_user

router = APIRouter()
REFUSED = ("Sign-in refused: the user name, password or code is wrong, the code was used "
           "already, or the account is locked. Check them and try again with a new code.")
HELP = (f"After {MAX_FAILED_LOGONS} wrong tries in a row the account is locked for "
        f"{int(LOCKOUT.total_seconds() // 60)} minutes. A session locks after "
        f"{int(SESSION_IDLE.total_seconds() // 60)} idle minutes.")


def _safe_next(target: str) -> str:
    """Only a path on this site (never //host or a scheme) may follow a sign-in."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _form(request: Request, *, error: str = "", next_url: str = "/", user: str = "",
          status: int = 200) -> Response:
    nonce = request.cookies.get(SIGNIN_COOKIE) or new_signin_nonce()
    reason = request.query_params.get("reason", "")
    response = page(request, "signin.html", None, title="Sign in", csrf=nonce, error=error,
                    reason=reason, next_url=_safe_next(next_url), name=user, help=HELP,
                    http_status=status)
    set_cookie(request, response, SIGNIN_COOKIE, nonce)
    return response


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> Response:
    try:
        web_user(request)
        return see_other(_safe_next(next))
    except SignInRequired:
        return _form(request, next_url=next)


@router.post("/signin")
def signin(
    request: Request,
    services: ServicesDep,
    user: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=500)],
    code: Annotated[str, Form(max_length=12)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    request.state.audit_user = user
    touch(request, f"user:{user}", "web.signin")
    check_token(request.cookies.get(SIGNIN_COOKIE, ""), csrf)
    try:
        token = logon(services.store, user.strip(), password, code.strip().replace(" ", ""))
    except AuthenticationFailed:
        request.state.audit_outcome = "denied"
        return _form(request, error=REFUSED, next_url=next, user=user, status=401)
    response = see_other(_safe_next(next))
    set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(request: Request, services: ServicesDep, user: FormUserDep) -> Response:
    touch(request, f"user:{user.name}", "web.signout")
    token = request.cookies.get(SESSION_COOKIE, "")
    services.principals.forget(token_digest(token))
    if user.session_id is not None:
        with services.store.session() as session:
            revoke_token(session, user.session_id)
    response = see_other("/signin?reason=" + "You are signed out.".replace(" ", "%20"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
