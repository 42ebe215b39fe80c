"""GET/POST /lookup: match hashes against the sets the caller may see."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cvis.accounts.roles import LOOKUP
from cvis.accounts.service import Principal
from cvis.api.deps import PurposeDep, ServicesDep, require, touch
from cvis.api.lookup_body import LOOKUP_BODY_SCHEMA, parse_lookup_body
from cvis.api.schemas.lookup import HashIn, LookupResponse
from cvis.api.services import Services
from cvis.identify.matcher import Query as MatchQuery
from cvis.signals import get_signal_type
from cvis.signals.base import InvalidSignalValue

router = APIRouter(tags=["lookup"])


def _parse(hashes: list[HashIn]) -> list[MatchQuery]:
    queries = []
    for i, h in enumerate(hashes):
        try:
            signal = get_signal_type(h.signal)
            queries.append(MatchQuery(signal.name, signal.validate(h.value), h.quality))
        except InvalidSignalValue as exc:
            raise HTTPException(400, f"hashes[{i}]: {exc}") from None
    return queries


def _allowed_sets(services: Services, agency: str, wanted: list[str] | None) -> set[str]:
    visible = services.sets_visible_to(agency)
    if wanted is None:
        return set(visible)
    unknown = sorted(set(wanted) - visible)
    if unknown:
        raise HTTPException(404, f"no hash set named {', '.join(unknown)} visible to you")
    return set(wanted)


def _answer(services: Services, principal: Principal, queries: list[MatchQuery],
            sets: list[str] | None) -> Response:
    allowed = _allowed_sets(services, principal.agency, sets)
    found = services.matchers.match(queries, allowed)
    results = [
        {"query": q.value, "signal": q.signal, "matches": [m.to_dict() for m in matches]}
        for q, matches in zip(queries, found, strict=True)
    ]
    # Serialised directly: pydantic re-validation of 100,000 rows would dominate the call.
    return Response(json.dumps({"results": results}), media_type="application/json")


@router.get("/lookup", response_model=LookupResponse)
def lookup_one(
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(LOOKUP))],
    _purpose: PurposeDep,
    signal: Annotated[str, Query(max_length=30, description="md5, sha1, sha256 or pdq")],
    value: Annotated[str, Query(max_length=200)],
    sets: Annotated[str | None, Query(max_length=2000, description="Comma-separated")] = None,
) -> Response:
    queries = _parse([HashIn(signal=signal, value=value, quality=None)])
    touch(request, f"{queries[0].signal}:{queries[0].value}", "lookup")
    names = [s.strip() for s in sets.split(",") if s.strip()] if sets else None
    return _answer(services, principal, queries, names)


@router.post(
    "/lookup",
    response_model=LookupResponse,
    openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": LOOKUP_BODY_SCHEMA}}
    }},
)
async def lookup_many(
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(LOOKUP))],
    _purpose: PurposeDep,
) -> Response:
    """Up to 100,000 hashes a call: {"hashes": [{"signal", "value", "quality"?}], "sets"?}."""
    queries, sets = parse_lookup_body(await request.body())
    first = f", first {queries[0].signal}:{queries[0].value}" if queries else ""
    touch(request, f"{len(queries)} hashes{first}", "lookup")
    return await run_in_threadpool(_answer, services, principal, queries, sets)
