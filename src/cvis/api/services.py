"""What every route needs, built once per worker process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cvis import policy
from cvis.accounts.roles import SETS_MATCH, SETS_METADATA
from cvis.accounts.service import Principal
from cvis.accounts.throttle import AddressThrottle
from cvis.api.cache import TtlCache
from cvis.api.matchers import MatcherCache
from cvis.api.settings import ServiceSettings
from cvis.audit.writer import AuditWriter
from cvis.hashsets.access import set_resources
from cvis.hashsets.feedback import agency_suppressed
from cvis.policy import Actor
from cvis.store.db import Store

SetRights = dict[str, bool]  # set name -> may see its metadata (absent: may not match it)
RightsKey = tuple[str, str, frozenset[str], bool]


@dataclass
class Services:
    store: Store
    settings: ServiceSettings
    matchers: MatcherCache
    audit: AuditWriter
    principals: TtlCache[str, Principal]
    set_rights: TtlCache[RightsKey, SetRights]
    suppressed: TtlCache[str, frozenset[tuple[str, str, str]]]
    logon_throttle: AddressThrottle

    @classmethod
    def build(cls, store: Store, settings: ServiceSettings) -> Services:
        matchers = MatcherCache(store, settings.index_refresh_seconds, settings.background_refresh)
        return cls(store, settings, matchers, AuditWriter(store),
                   TtlCache(settings.cache_seconds), TtlCache(settings.cache_seconds),
                   TtlCache(settings.cache_seconds),
                   AddressThrottle(settings.logon_attempts_per_minute))

    def matchable_sets(self, actor: Actor, enabled_only: bool = True) -> SetRights:
        """The (enabled) sets the policy lets this actor match against, each with whether it
        may see their metadata (cached for ``cache_seconds`` per agency and rights)."""
        return self.set_rights.get(_rights_key(actor, enabled_only),
                                   self._set_rights_loader(actor, enabled_only))

    def _set_rights_loader(self, actor: Actor, enabled_only: bool) -> Callable[[], SetRights]:
        def load() -> SetRights:
            with self.store.session() as session:
                resources = set_resources(session, enabled_only=enabled_only)
            return {
                name: policy.decide(actor, SETS_METADATA, res).allowed
                for name, res in resources.items()
                if policy.decide(actor, SETS_MATCH, res).allowed
            }

        return load

    def matchable_sets_cached(self, actor: Actor) -> SetRights | None:
        """``matchable_sets(actor)`` if a fresh answer is cached (renewed ahead of its
        expiry on a background thread), else None: nothing is read on the caller's thread."""
        return self.set_rights.peek(_rights_key(actor, True), self._set_rights_loader(actor, True))

    def suppressed_for(self, agency: str) -> frozenset[tuple[str, str, str]]:
        """(set, media id, signal) of matches the agency's own false-positive verdicts hide."""
        return self.suppressed.get(agency, self._suppressed_loader(agency))

    def _suppressed_loader(self, agency: str) -> Callable[[], frozenset[tuple[str, str, str]]]:
        def load() -> frozenset[tuple[str, str, str]]:
            with self.store.session() as session:
                return frozenset(agency_suppressed(session, agency))

        return load

    def suppressed_cached(self, agency: str) -> frozenset[tuple[str, str, str]] | None:
        """``suppressed_for(agency)`` if a fresh answer is cached (renewed ahead), else None."""
        return self.suppressed.peek(agency, self._suppressed_loader(agency))


def _rights_key(actor: Actor, enabled_only: bool) -> RightsKey:
    return (actor.agency, actor.role, actor.rights, enabled_only)
