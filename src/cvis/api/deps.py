"""Request dependencies: the services, the authenticated caller, permissions, purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request

from cvis.accounts.credentials import token_digest
from cvis.accounts.service import AuthenticationFailed, Principal, authenticate_token
from cvis.api.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_principal(
    request: Request,
    services: ServicesDep,
    authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "an 'Authorization: Bearer <token>' header is required",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        principal = services.principals.get(
            token_digest(token.strip()), lambda: _authenticate(services, token.strip())
        )
    except AuthenticationFailed as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    request.state.principal = principal
    return principal


def _authenticate(services: Services, token: str) -> Principal:
    failure: AuthenticationFailed | None = None
    with services.store.session() as session:
        try:
            return authenticate_token(session, token)
        except AuthenticationFailed as exc:  # committed: an idle session stays locked
            failure = exc
    raise failure


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not principal.may(permission):
            raise HTTPException(
                403, f"role {principal.role!r} with this token may not do {permission!r}"
            )
        return principal

    return check


def stated_purpose(
    request: Request,
    principal: PrincipalDep,
    purpose: Annotated[
        str | None, Query(max_length=500, description="Case reference or reason for the search")
    ] = None,
    x_purpose: Annotated[str | None, Header(max_length=500)] = None,
) -> str:
    """Interactive users must say why they search; API tokens carry their purpose."""
    given = (purpose or x_purpose or "").strip()
    if not given and principal.interactive:
        raise HTTPException(400, "interactive sessions must state a purpose or case reference "
                                 "(the 'purpose' query parameter or 'X-Purpose' header)")
    request.state.purpose = given or principal.purpose
    return str(request.state.purpose)


PurposeDep = Annotated[str, Depends(stated_purpose)]


def touch(request: Request, obj: str, event: str | None = None) -> None:
    """Name the object a request touched (and the event) for its audit record."""
    request.state.audit_object = obj
    if event:
        request.state.audit_event = event
