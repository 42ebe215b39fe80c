"""What every route needs, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass

from cvis.api.matchers import MatcherCache
from cvis.api.settings import ServiceSettings
from cvis.audit.writer import AuditWriter
from cvis.store.db import Store


@dataclass
class Services:
    store: Store
    settings: ServiceSettings
    matchers: MatcherCache
    audit: AuditWriter

    @classmethod
    def build(cls, store: Store, settings: ServiceSettings) -> Services:
        matchers = MatcherCache(store, settings.index_refresh_seconds, settings.background_refresh)
        return cls(store, settings, matchers, AuditWriter(store))
