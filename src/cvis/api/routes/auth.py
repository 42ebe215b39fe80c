"""Interactive logon (password + TOTP) and logoff."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from cvis.accounts.credentials import token_digest
from cvis.accounts.service import SESSION_IDLE, AuthenticationFailed, logon, revoke_token
from cvis.api.deps import PrincipalDep, ServicesDep, touch
from cvis.api.schemas.accounts import LogonRequest, LogonResponse


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2].strip()


router = APIRouter(prefix="/auth", tags=["accounts"])


@router.post("/logon", response_model=LogonResponse)
def logon_route(body: LogonRequest, request: Request, services: ServicesDep) -> LogonResponse:
    request.state.audit_user = body.user
    touch(request, f"user:{body.user}", "logon")
    address = request.client.host if request.client else ""
    if not services.logon_throttle.allow(address):
        request.state.audit_detail = f"too many logon attempts from {address}"
        raise HTTPException(429, "too many logon attempts from this address: wait a minute",
                            headers={"Retry-After": "60"})
    try:
        token = logon(services.store, body.user, body.password, body.totp)
    except AuthenticationFailed as exc:  # the attempt was counted before it was checked
        request.state.audit_detail = exc.reason
        raise HTTPException(401, str(exc)) from None
    return LogonResponse(token=token, idle_lock_minutes=int(SESSION_IDLE.total_seconds() // 60))


@router.post("/logoff", status_code=204)
def logoff_route(principal: PrincipalDep, request: Request, services: ServicesDep) -> None:
    touch(request, f"user:{principal.user}", "logoff")
    services.principals.forget(token_digest(_bearer(request)))
    if principal.token_id is not None and principal.interactive:
        with services.store.session() as session:
            revoke_token(session, principal.token_id)
