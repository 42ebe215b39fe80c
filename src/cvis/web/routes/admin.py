"""Administration: agencies, users (with their TOTP secret, shown once) and tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import select

from cvis import policy
from cvis.accounts.credentials import totp_uri
from cvis.accounts.roles import ACCOUNTS_ADMIN, ROLES, UnknownRole
from cvis.accounts.service import AccountError, add_agency, add_user, revoke_token
from cvis.policy import Resource
from cvis.store.models import Agency, ApiToken, User
from cvis.web.render import page
from cvis.web.routes.common import ServicesDep, touch
from cvis.web.session import FormUserDep, UserDep, WebUser

router = APIRouter()
ACCOUNTS = Resource("accounts", "all")


def _admin_page(
    request: Request, services: ServicesDep, user: WebUser, *, status: int = 200,
    **context: Any,
) -> Response:
    with services.store.session() as session:
        agencies = list(session.scalars(select(Agency).order_by(Agency.name)))
        users = [(u, u.agency.name) for u in session.scalars(select(User).order_by(User.name))]
        tokens = [(t, t.user.name) for t in session.scalars(
            select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id.desc())
            .limit(200))]
    return page(request, "admin.html", user, title="Administration", agencies=agencies,
                users=users, tokens=tokens, roles=list(ROLES), http_status=status, **context)


@router.get("/admin")
def admin(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, "accounts", "web.admin")
    policy.require(user.actor, ACCOUNTS_ADMIN, ACCOUNTS)
    return _admin_page(request, services, user)


@router.post("/admin/agencies")
def agency_add(
    request: Request, services: ServicesDep, user: FormUserDep,
    name: Annotated[str, Form(max_length=200)],
) -> Response:
    touch(request, f"agency:{name}", "web.agency.add")
    policy.require(user.actor, ACCOUNTS_ADMIN, ACCOUNTS)
    try:
        with services.store.session() as session:
            add_agency(session, name)
    except AccountError as exc:
        request.state.audit_outcome = "failure"
        return _admin_page(request, services, user, error=str(exc), status=400)
    return _admin_page(request, services, user, notice=f"Agency {name} added.")


@router.post("/admin/users")
def user_add(
    request: Request, services: ServicesDep, user: FormUserDep,
    name: Annotated[str, Form(max_length=200)],
    agency: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(min_length=12, max_length=500)],
) -> Response:
    touch(request, f"user:{name} role:{role} agency:{agency}", "web.user.add")
    policy.require(user.actor, ACCOUNTS_ADMIN, ACCOUNTS)
    try:
        with services.store.session() as session:
            _, secret = add_user(session, name, agency, role, password)
    except (AccountError, UnknownRole) as exc:
        request.state.audit_outcome = "failure"
        return _admin_page(request, services, user, error=str(exc), status=400)
    return _admin_page(request, services, user, notice=f"User {name} added.",
                       secret=secret, secret_uri=totp_uri(secret, name), secret_user=name)


@router.post("/admin/tokens/{token_id}/revoke")
def token_revoke(
    request: Request, services: ServicesDep, user: FormUserDep, token_id: int
) -> Response:
    touch(request, f"token:{token_id}", "web.token.revoke")
    policy.require(user.actor, ACCOUNTS_ADMIN, ACCOUNTS)
    try:
        with services.store.session() as session:
            revoke_token(session, token_id)
    except AccountError as exc:
        return _admin_page(request, services, user, error=str(exc), status=400)
    return _admin_page(request, services, user, notice=f"Token {token_id} revoked.")
