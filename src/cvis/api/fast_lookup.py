"""The lookup hot path: GET and POST /api/v1/lookup answered at the door, on the event loop.

A lookup on the slow path crosses FastAPI's dependency machinery, Starlette's http
middleware and two thread-pool hops; at thousands a second those cost more than the
search. Here the same questions are asked in the same order of the same services, and
nothing is decided differently:

- who: the bearer token's principal, only as the principal cache holds it (fresh, within
  ``cache_seconds``); a token not cached goes the slow way, which authenticates it;
- the purpose: ``cvis.api.deps.resolve_purpose``, the rule the routes use;
- may this role look up at all, and which sets: ``cvis.policy`` through the same cached
  answers (``Services.matchable_sets``, the agency's suppressions);
- the answer: the route's own ``answer_body`` from the matcher's columns;
- the audit record: the one the audit middleware would write for this answer, committed
  with the records of concurrent requests (``AuditWriter.write_async``) before the answer
  is sent, so no answered lookup is missing from the log after a crash.

Only a request that passes every check is answered here. Anything else (no or unknown
token, no purpose, a refusal, a malformed value, an unknown set, a cache entry or matcher
check due, an unexpected error) sends nothing, writes nothing, and is handed whole to the
application, which answers and audits it as always (a POST's body is replayed to it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from urllib.parse import parse_qsl

import numpy as np
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from cvis import policy
from cvis.accounts.credentials import token_digest
from cvis.accounts.roles import LOOKUP
from cvis.accounts.service import Principal
from cvis.api.audit_middleware import API_PREFIX
from cvis.api.deps import PurposeRefused, authenticate, resolve_purpose
from cvis.api.lookup_batch import HexBatch, answer_hex_batch, parse_hex_batch
from cvis.api.lookup_body import parse_lookup_body
from cvis.api.matchers import MatcherCache
from cvis.api.routes.lookup import answer_body
from cvis.api.services import Services
from cvis.audit.log import Actor as AuditActor
from cvis.audit.log import AuditEntry
from cvis.audit.writer import AuditUnavailable
from cvis.identify.matcher import MatchColumns, Query
from cvis.policy import Actor
from cvis.policy.actors import from_principal
from cvis.policy.rules import SERVICE
from cvis.signals import get_signal_type
from cvis.signals.base import InvalidSignalValue

PATH = API_PREFIX + "/lookup"
GET_PARAMS = frozenset({"signal", "value", "sets", "purpose"})
# Batches larger than this are matched on a thread, so the loop keeps answering others.
INLINE_QUERIES = 5000
JSON = [(b"content-type", b"application/json")]
# Signals a compact batch of which is matched from arrays (``Matcher.match_digests``).
EXACT = frozenset({"md5", "sha1", "sha256"})
MAX_CALLERS = 10_000


class _Slow(Exception):
    """This request is the application's to answer."""


class _Caller:
    """The authenticated, purposed caller of one request."""

    __slots__ = ("actor", "host", "principal", "purpose", "who")

    def __init__(self, principal: Principal, actor: Actor, host: str, purpose: str) -> None:
        self.principal, self.actor, self.host, self.purpose = principal, actor, host, purpose
        self.who = AuditActor(principal.user, principal.agency, host)

    def audit(self, obj: str) -> AuditEntry:
        """The record ``audit_middleware._entry`` writes for an answered lookup."""
        return AuditEntry("api", "lookup", self.who, "success", obj, self.purpose[:500],
                          "HTTP 200")


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The first value of each header (as Starlette's ``headers.get`` reads them)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        found.setdefault(name, value)
    return found


def _single(params: list[tuple[str, str]]) -> dict[str, str]:
    """Query parameters, each given once (a repeated one is the slow path's to read)."""
    found = dict(params)
    if len(found) != len(params):
        raise _Slow
    return found


class MatchGroup:
    """The lookups one worker's event loop holds at once, searched in one matcher call.

    The index answers a batch for little more than one query (its probes are vectorised
    over queries; the store is read once for all their hits), so requests that arrive
    together are matched together: each one waits at most for the callbacks already
    queued, then takes its own slice of the columns. A query's matches do not depend on
    the others in the batch; each request is shaped for its own caller afterwards.
    """

    def __init__(self, matchers: MatcherCache) -> None:
        self._matchers = matchers
        self._waiting: list[tuple[Sequence[Query], asyncio.Future[MatchColumns | None]]] = []

    async def match(self, queries: Sequence[Query]) -> MatchColumns | None:
        """This request's columns, or None when the matcher cannot answer on the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[MatchColumns | None] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._search)
        self._waiting.append((queries, future))
        return await future

    def _search(self) -> None:
        waiting, self._waiting = self._waiting, []
        every = [q for queries, _ in waiting for q in queries]
        try:
            found = self._matchers.match_columns_now(every)
        except Exception:  # the application answers (and records) whatever this was
            found = None
        start = 0
        for queries, future in waiting:
            end = start + len(queries)
            if not future.done():
                future.set_result(None if found is None else _slice(found, start, end))
            start = end


def _slice(found: MatchColumns, start: int, end: int) -> MatchColumns:
    """Queries ``start:end`` of a batch's columns, numbered from 0 (rows stay sorted)."""
    lo, hi = np.searchsorted(found.queries, (start, end)).tolist()
    return MatchColumns(found.queries[lo:hi] - start, found.rows[lo:hi],
                        found.distances[lo:hi], found.facts)


class FastLookup:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.group = MatchGroup(services.matchers)
        # Per (token, address, purposes stated): the caller worked out for the principal the
        # cache holds; renewed with it (a new principal object), dropped with it (a revoked
        # token is refused by the slow path: the principal cache decides, not this).
        self._callers: dict[tuple[str, str, str | None, str | None], _Caller] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """None when answered here; else the ``receive`` the application must read from."""
        try:
            if scope["method"] == "GET":
                await self._get(scope, send)
                return None
            if scope["method"] == "POST":
                return await self._post(scope, receive, send)
        except _Slow:
            pass
        return receive

    def _caller(self, scope: Scope, headers: dict[bytes, bytes], purpose: str | None) -> _Caller:
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _Slow
        # Renewed ahead on a thread: a token in steady use was used within the cache's
        # lifetime, so its renewal cannot meet the idle-session lock (a side effect).
        digest = token_digest(token)
        principal = self.services.principals.peek(
            digest, partial(authenticate, self.services, token))
        if principal is None:
            raise _Slow
        client = scope.get("client")
        host = client[0] if client else ""
        x_purpose = headers.get(b"x-purpose")
        stated = x_purpose.decode("latin-1") if x_purpose is not None else None
        key = (digest, host, purpose, stated)
        known = self._callers.get(key)
        if known is not None and known.principal is principal:
            return known  # the same answers for the same cached principal: asked already
        caller = self._checked_caller(principal, host, purpose, stated)
        if len(self._callers) >= MAX_CALLERS:
            self._callers.clear()
        self._callers[key] = caller
        return caller

    def _checked_caller(self, principal: Principal, host: str, purpose: str | None,
                        stated: str | None) -> _Caller:
        actor = replace(from_principal(principal), client=host)
        if (stated is not None and len(stated) > 500) or (purpose is not None
                                                          and len(purpose) > 500):
            raise _Slow
        try:
            purpose = resolve_purpose(actor, purpose, stated)
        except PurposeRefused:
            raise _Slow from None
        if not policy.decide(actor, LOOKUP, SERVICE).allowed:
            raise _Slow
        return _Caller(principal, replace(actor, purpose=purpose), host, purpose)

    def _allowed(self, caller: _Caller, wanted: list[str] | None) -> dict[str, bool]:
        matchable = self.services.matchable_sets_cached(caller.actor)
        if matchable is None:
            raise _Slow
        if wanted is None:
            return matchable
        if not set(wanted) <= matchable.keys():
            raise _Slow  # a 404 naming the sets: the route's answer
        return {name: matchable[name] for name in wanted}

    def _suppressed(self, caller: _Caller) -> frozenset[tuple[str, str, str]]:
        suppressed = self.services.suppressed_cached(caller.actor.agency)
        if suppressed is None:
            raise _Slow
        return suppressed

    async def _body_now(self, caller: _Caller, queries: list[Query],
                        wanted: list[str] | None) -> bytes:
        allowed = self._allowed(caller, wanted)
        if not allowed:
            return answer_body(queries, allowed, None, frozenset())
        suppressed = self._suppressed(caller)
        found = await self.group.match(queries)
        if found is None:
            raise _Slow
        return answer_body(queries, allowed, found, suppressed)

    async def _get(self, scope: Scope, send: Send) -> None:
        params = _single(parse_qsl(scope["query_string"].decode("latin-1"),
                                   keep_blank_values=True))
        signal, value, sets = params.get("signal"), params.get("value"), params.get("sets")
        if (not params.keys() <= GET_PARAMS or signal is None or value is None
                or len(signal) > 30 or len(value) > 200 or (sets is not None and len(sets) > 2000)):
            raise _Slow
        caller = self._caller(scope, _headers(scope), params.get("purpose"))
        try:
            kind = get_signal_type(signal)
            query = Query(kind.name, kind.validate(value))
        except InvalidSignalValue:
            raise _Slow from None
        names = [s.strip() for s in sets.split(",") if s.strip()] if sets else None
        body = await self._body_now(caller, [query], names)
        await self._answer(send, caller, f"{query.signal}:{query.value}", body)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        headers = _headers(scope)
        declared = headers.get(b"content-length", b"")
        if not declared.isdigit() or int(declared) > self.services.settings.max_upload_bytes:
            raise _Slow  # chunked, or refused by the size limit: the application's answer
        params = [(k, v) for k, v in parse_qsl(scope["query_string"].decode("latin-1"),
                                               keep_blank_values=True) if k == "purpose"]
        caller = self._caller(scope, headers, _single(params).get("purpose"))
        messages, raw = await _read_body(receive)

        def replay() -> Receive:
            pending = list(messages)

            async def again() -> Message:
                return pending.pop(0) if pending else await receive()

            return again

        if raw is None:
            return replay()
        try:
            body, obj = await self._batch(caller, raw)
        except Exception:  # _Slow, a 4xx from the parser, anything: the application's
            return replay()
        await self._answer(send, caller, obj, body)
        return None

    async def _batch(self, caller: _Caller, raw: bytes) -> tuple[bytes, str]:
        """The answer, and what its audit record names (the count and the first query)."""
        hex_batch = parse_hex_batch(raw)
        if hex_batch is not None and hex_batch.signal in EXACT:
            body = await self._digests(caller, hex_batch)
            if body is not None:
                return body, f"{len(hex_batch)} hashes, first {hex_batch.first()}"
        body, queries = await self._queries(caller, raw, hex_batch)
        first = f", first {queries[0].signal}:{queries[0].value}" if queries else ""
        return body, f"{len(queries)} hashes{first}"

    async def _digests(self, caller: _Caller, batch: HexBatch) -> bytes | None:
        """A compact batch of an exact signal, from arrays to bytes: no Query per value
        (``Matcher.match_digests``); None when the matcher answers this signal only from
        queries. Policy as ``_queries``: the same sets, suppressions and shaping."""
        allowed = self._allowed(caller, batch.sets)
        if not allowed:
            return answer_hex_batch(batch, None, allowed, None, frozenset())
        suppressed = self._suppressed(caller)
        matchers = self.services.matchers
        if len(batch) > INLINE_QUERIES:
            found = await run_in_threadpool(matchers.match_digests, batch.signal, batch.digests())
            if found is None:
                return None
            return await run_in_threadpool(answer_hex_batch, batch, None, allowed, found,
                                           suppressed)
        found = matchers.match_digests_now(batch.signal, batch.digests())
        if found is None:
            return None
        return answer_hex_batch(batch, None, allowed, found, suppressed)

    async def _queries(self, caller: _Caller, raw: bytes,
                       hex_batch: HexBatch | None) -> tuple[bytes, list[Query]]:
        if hex_batch is None:
            queries, wanted = parse_lookup_body(raw)
        else:
            queries, wanted = hex_batch.queries(), hex_batch.sets
        if len(queries) > INLINE_QUERIES:
            body = await run_in_threadpool(self._body_blocking, caller, queries, wanted, hex_batch)
            return body, queries
        allowed = self._allowed(caller, wanted)
        suppressed = self._suppressed(caller) if allowed else frozenset()
        found = await self.group.match(queries) if allowed else None
        if allowed and found is None:
            raise _Slow
        if hex_batch is not None:
            return answer_hex_batch(hex_batch, queries, allowed, found, suppressed), queries
        return answer_body(queries, allowed, found, suppressed), queries

    def _body_blocking(self, caller: _Caller, queries: list[Query], wanted: list[str] | None,
                       hex_batch: HexBatch | None) -> bytes:
        """A large batch, on a thread: the matcher may wait for its lock or a refresh."""
        allowed = self._allowed(caller, wanted)
        suppressed = self._suppressed(caller) if allowed else frozenset()
        found = self.services.matchers.match_columns(queries) if allowed else None
        if hex_batch is not None:
            return answer_hex_batch(hex_batch, queries, allowed, found, suppressed)
        return answer_body(queries, allowed, found, suppressed)

    async def _answer(self, send: Send, caller: _Caller, obj: str, body: bytes) -> None:
        """Record the lookup (group commit), then send the answer; if the record cannot be
        committed, the answer is withheld: 503, as the audit middleware does."""
        status = 200
        try:
            await self.services.audit.write_async(caller.audit(obj))
        except AuditUnavailable as exc:
            status, body = 503, orjson.dumps({"detail": str(exc)})
        headers = [*JSON, (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every message of the request body, and the body (None if the client left)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)
