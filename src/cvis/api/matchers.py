"""One matcher per worker process, kept fresh without a reload storm.

Each process checks a cheap signature of the hash sets (newest version id, the
enabled sets) at most every ``refresh_seconds`` (jittered, so workers do not
check in step); when it changed, a new matcher is built on a background thread
while the old one keeps answering, then swapped in. An import therefore reaches
every worker within about ``refresh_seconds`` plus the build time.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cvis.identify.matcher import MatchColumns, Matcher, MatchResult, Query
from cvis.store.db import Store
from cvis.store.models import HashSet, SetVersion, Suppression

_T = TypeVar("_T")


@dataclass
class _Built:
    matcher: Matcher
    session: Session
    signature: tuple[Any, ...]


class MatcherCache:
    def __init__(self, store: Store, refresh_seconds: float = 3.0, background: bool = True) -> None:
        self._store = store
        self._refresh = refresh_seconds
        self._background = background
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._current: _Built | None = None
        self._next_check = 0.0

    def signature(self) -> tuple[Any, ...]:
        with self._store.session() as session:
            newest = session.scalar(select(func.max(SetVersion.id)))
            suppressions = tuple(session.execute(
                select(func.count(Suppression.id), func.max(Suppression.id))
            ).one())
            enabled = tuple(
                session.scalars(
                    select(HashSet.id).where(HashSet.enabled.is_(True)).order_by(HashSet.id)
                )
            )
        return newest, enabled, suppressions

    def _build(self) -> None:
        with self._build_lock:
            signature = self.signature()
            if self._current is not None and self._current.signature == signature:
                return
            session = Session(self._store.engine, expire_on_commit=False)
            built = _Built(
                Matcher(session, index_dir=self._store.settings.index_dir,
                        facts_connect=self._store.engine.raw_connection), session, signature
            )
            session.commit()  # end the read transaction; the facts query reopens one per call
            with self._lock:
                old, self._current = self._current, built
            if old is not None:
                old.session.close()

    def refresh(self, force: bool = False) -> None:
        """Rebuild now if the sets changed (``force``: check regardless of the interval)."""
        now = time.monotonic()
        if not force and now < self._next_check and self._current is not None:
            return
        self._next_check = now + self._refresh * random.uniform(0.5, 1.0)
        if self._current is None or not self._background or force:
            self._build()
        elif self.signature() != self._current.signature and not self._build_lock.locked():
            threading.Thread(target=self._build, name="cvis-matcher", daemon=True).start()

    def _check(self) -> None:
        """Rebuild (on this thread) if the sets changed since the current matcher."""
        try:
            current = self._current
            if current is not None and self.signature() != current.signature:
                self._build()
        except Exception:  # the next caller checks again, on the slow path if need be
            self._next_check = 0.0

    def match(
        self, queries: Sequence[Query], allowed_sets: set[str]
    ) -> list[list[MatchResult]]:
        """Candidates per query, limited to the sets the caller may see."""
        self.refresh()
        try:
            found = self._match(queries)
        except KeyError:  # a known record was removed after the index was built
            self.refresh(force=True)
            found = self._match(queries)
        return [[m for m in per_query if m.set in allowed_sets] for per_query in found]

    def match_columns(self, queries: Sequence[Query]) -> MatchColumns:
        """Every set's candidates as columns (the batch answer's fast path); the caller
        shapes them for the actor (``cvis.identify.lookup.encode_matches``)."""
        return self._blocking(lambda matcher: matcher.match_columns(queries))

    def match_digests(self, signal: str, digests: np.ndarray) -> MatchColumns | None:
        """``Matcher.match_digests`` (None: not an exact signal it answers from arrays)."""
        return self._blocking(lambda matcher: matcher.match_digests(signal, digests))

    def _blocking(self, call: Callable[[Matcher], _T]) -> _T:
        self.refresh()
        with self._lock:
            assert self._current is not None
            try:
                return call(self._current.matcher)
            finally:
                self._current.session.commit()

    def match_columns_now(self, queries: Sequence[Query]) -> MatchColumns | None:
        """``match_columns`` on the caller's thread (the event loop's hot path), or None when
        that would wait: no matcher yet, or busy in another thread, or a freshness check due
        without background refresh. The caller then takes the slow path. With background
        refresh, a due check runs on a thread while this matcher answers (as it answers
        while a changed index is built)."""
        return self._now(lambda matcher: matcher.match_columns(queries))

    def match_digests_now(self, signal: str, digests: np.ndarray) -> MatchColumns | None:
        """``match_digests`` on the caller's thread, or None as ``match_columns_now``."""
        return self._now(lambda matcher: matcher.match_digests(signal, digests))

    def _now(self, call: Callable[[Matcher], MatchColumns | None]) -> MatchColumns | None:
        if self._current is None:
            return None
        if time.monotonic() >= self._next_check:
            if not self._background:
                return None
            self._next_check = time.monotonic() + self._refresh * random.uniform(0.5, 1.0)
            threading.Thread(target=self._check, name="cvis-matcher-check", daemon=True).start()
        if not self._lock.acquire(blocking=False):
            return None
        try:
            current = self._current
            try:
                return call(current.matcher)
            finally:
                current.session.commit()
        finally:
            self._lock.release()

    def _match(self, queries: Sequence[Query]) -> list[list[MatchResult]]:
        with self._lock:
            assert self._current is not None
            try:
                return self._current.matcher.match(queries)
            finally:
                self._current.session.commit()
