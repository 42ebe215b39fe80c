"""What every route needs, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass

from cvis.accounts.service import Principal
from cvis.api.cache import TtlCache
from cvis.api.matchers import MatcherCache
from cvis.api.settings import ServiceSettings
from cvis.api.visibility import visible_set_names
from cvis.audit.writer import AuditWriter
from cvis.store.db import Store


@dataclass
class Services:
    store: Store
    settings: ServiceSettings
    matchers: MatcherCache
    audit: AuditWriter
    principals: TtlCache[str, Principal]
    visible_sets: TtlCache[str, frozenset[str]]

    @classmethod
    def build(cls, store: Store, settings: ServiceSettings) -> Services:
        matchers = MatcherCache(store, settings.index_refresh_seconds, settings.background_refresh)
        return cls(store, settings, matchers, AuditWriter(store),
                   TtlCache(settings.cache_seconds), TtlCache(settings.cache_seconds))

    def sets_visible_to(self, agency: str) -> frozenset[str]:
        def load() -> frozenset[str]:
            with self.store.session() as session:
                return frozenset(visible_set_names(session, agency))

        return self.visible_sets.get(agency, load)
