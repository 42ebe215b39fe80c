"""Request dependencies: the services, the authenticated caller as a policy actor, purpose.

Routes ask the one policy (``cvis.policy``) through these: ``require(right)`` for the
service-wide question (does the role hold it), then ``policy.require(actor, right,
resource)`` on the particular set, case or scan. Nothing here decides by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request

from cvis import policy
from cvis.accounts.credentials import token_digest
from cvis.accounts.service import AuthenticationFailed, Principal, authenticate_token
from cvis.api.services import Services
from cvis.policy import Actor
from cvis.policy.actors import from_principal
from cvis.policy.inputs import InvalidName, check_name
from cvis.policy.rules import SERVICE


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _refuse(request: Request, credential: str, reason: str, message: str) -> HTTPException:
    """A 401 whose audit record names the credential that failed and why."""
    request.state.audit_user = credential
    request.state.audit_detail = reason
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def current_principal(
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _refuse(request, "no credential", "no bearer token",
                      "an 'Authorization: Bearer <token>' header is required")
    credential = f"token {token[:12]}..."
    try:
        principal = services.principals.get(
            token_digest(token), lambda: authenticate(services, token)
        )
    except AuthenticationFailed as exc:
        raise _refuse(request, credential, exc.reason, str(exc)) from None
    request.state.principal = principal
    return principal


def authenticate(services: Services, token: str) -> Principal:
    """Who the token is, from the store (AuthenticationFailed saying why)."""
    failure: AuthenticationFailed | None = None
    with services.store.session() as session:
        try:
            return authenticate_token(session, token)
        except AuthenticationFailed as exc:  # committed: an idle session stays locked
            failure = exc
    raise failure


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_actor(request: Request, principal: PrincipalDep) -> Actor:
    """The caller as the policy sees it (with the address it called from)."""
    actor = getattr(request.state, "actor", None)
    if actor is None:
        client = request.client.host if request.client else ""
        actor = replace(from_principal(principal), client=client)
        request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def require(permission: str) -> Callable[..., Principal]:
    """The service-wide question, asked of the policy: may this role do ``permission`` at all?
    Returns the principal (``acting`` returns the policy actor, with the stated purpose)."""

    def check(principal: PrincipalDep, actor: ActorDep) -> Principal:
        decision = policy.decide(actor, permission, SERVICE)
        if not decision.allowed:
            raise HTTPException(403, f"{decision.reason} (with this token)")
        return principal

    return check


class PurposeRefused(ValueError):
    """The stated purpose cannot be taken (answered 400 with this message)."""


def resolve_purpose(actor: Actor, purpose: str | None, x_purpose: str | None) -> str:
    """The purpose a request acts for: interactive users state why on every access to data;
    a service token's purpose was fixed when it was made, and a caller cannot state another.
    One rule for the routes' dependency and the lookup hot path (cvis.api.fast_lookup)."""
    given = (purpose or x_purpose or "").strip()
    if given:
        try:
            check_name(given, "a purpose", max_length=500)
        except InvalidName as exc:
            raise PurposeRefused(str(exc)) from None
    if actor.interactive and not given:
        raise PurposeRefused("interactive sessions must state a purpose or case reference "
                             "(the 'purpose' query parameter or 'X-Purpose' header)")
    if not actor.interactive and given and actor.purpose and given != actor.purpose:
        raise PurposeRefused(f"this token's purpose is fixed ({actor.purpose!r}); "
                             "ask for a token for the other purpose")
    return given if actor.interactive else actor.purpose or given


def stated_purpose(
    request: Request,
    actor: ActorDep,
    purpose: Annotated[
        str | None, Query(max_length=500, description="Case reference or reason for the search")
    ] = None,
    x_purpose: Annotated[str | None, Header(max_length=500)] = None,
) -> str:
    """Interactive users state why on every access to data; a service token's purpose was
    fixed when it was made, and a caller cannot state another."""
    try:
        request.state.purpose = resolve_purpose(actor, purpose, x_purpose)
    except PurposeRefused as exc:
        raise HTTPException(400, str(exc)) from None
    request.state.actor = replace(actor, purpose=str(request.state.purpose))
    return str(request.state.purpose)


PurposeDep = Annotated[str, Depends(stated_purpose)]


def acting(permission: str) -> Callable[..., Actor]:
    """``require(permission)`` and a stated purpose: the dependency of every data route.
    Returns the actor, its purpose set."""
    role_check = require(permission)

    def check(request: Request, principal: PrincipalDep, actor: ActorDep,
              _purpose: PurposeDep) -> Actor:
        role_check(principal, actor)
        stated: Actor = request.state.actor
        return stated

    return check


def touch(request: Request, obj: str, event: str | None = None) -> None:
    """Name the object a request touched (and the event) for its audit record."""
    request.state.audit_object = obj
    if event:
        request.state.audit_event = event
