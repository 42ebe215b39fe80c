"""GET/POST /lookup: match hashes against the sets the caller may see."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cvis.accounts.roles import LOOKUP
from cvis.api.deps import ServicesDep, acting, touch
from cvis.api.lookup_body import LOOKUP_BODY_SCHEMA, parse_lookup_body
from cvis.api.schemas.lookup import HashIn, LookupResponse
from cvis.api.services import Services
from cvis.identify.lookup import encode_matches
from cvis.identify.matcher import MatchColumns
from cvis.identify.matcher import Query as MatchQuery
from cvis.policy import Actor
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


def allowed_sets(services: Services, actor: Actor, wanted: list[str] | None) -> dict[str, bool]:
    """The policy's choice of sets, made before the matcher runs: those named (each one the
    actor may match, else 404 as if it did not exist), or all it may match."""
    matchable = services.matchable_sets(actor)
    if wanted is None:
        return matchable
    unknown = sorted(set(wanted) - matchable.keys())
    if unknown:
        raise HTTPException(404, f"no hash set named {', '.join(unknown)} visible to you")
    return {name: matchable[name] for name in wanted}


def answer_body(queries: list[MatchQuery], allowed: dict[str, bool], found: MatchColumns | None,
                suppressed: frozenset[tuple[str, str, str]]) -> bytes:
    """The lookup answer, shaped for the actor as shape_matches does, from the columns
    (``found``: the matcher's columns for ``queries``, None when no set is allowed;
    ``suppressed``: the actor's agency's suppressions)."""
    if not allowed or found is None:
        results = [orjson.dumps({"query": q.value, "signal": q.signal, "matches": []})
                   for q in queries]
    else:
        results = encode_matches(queries, found, allowed, suppressed)
    # Written directly: pydantic re-validation of 100,000 rows would dominate the call.
    return b'{"results":[' + b",".join(results) + b"]}"


def _answer(services: Services, actor: Actor, queries: list[MatchQuery],
            sets: list[str] | None) -> Response:
    allowed = allowed_sets(services, actor, sets)
    if not allowed:
        body = answer_body(queries, allowed, None, frozenset())
    else:
        found = services.matchers.match_columns(queries)
        body = answer_body(queries, allowed, found, services.suppressed_for(actor.agency))
    return Response(body, media_type="application/json")


@router.get("/lookup", response_model=LookupResponse)
def lookup_one(
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(LOOKUP))],
    signal: Annotated[str, Query(max_length=30, description="md5, sha1, sha256 or pdq")],
    value: Annotated[str, Query(max_length=200)],
    sets: Annotated[str | None, Query(max_length=2000, description="Comma-separated")] = None,
) -> Response:
    queries = _parse([HashIn(signal=signal, value=value, quality=None)])
    touch(request, f"{queries[0].signal}:{queries[0].value}", "lookup")
    names = [s.strip() for s in sets.split(",") if s.strip()] if sets else None
    return _answer(services, actor, queries, names)


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
    actor: Annotated[Actor, Depends(acting(LOOKUP))],
) -> Response:
    """Up to 100,000 hashes a call: {"hashes": [{"signal", "value", "quality"?}], "sets"?}."""
    raw = await request.body()
    touch(request, f"body: {raw[:300].decode('utf-8', 'replace')}", "lookup")
    queries, sets = parse_lookup_body(raw)
    first = f", first {queries[0].signal}:{queries[0].value}" if queries else ""
    touch(request, f"{len(queries)} hashes{first}", "lookup")
    return await run_in_threadpool(_answer, services, actor, queries, sets)
