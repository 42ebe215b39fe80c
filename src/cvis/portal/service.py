"""What a person does to posters: publish, update, mark captured, withdraw.

Each asks the one policy (``posters:publish`` on the poster), is audited with the actor and
the reason, writes the public tables, and then tells the subscribers (``alerts.deliver``).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cvis import policy
from cvis.accounts.roles import POSTERS_PUBLISH
from cvis.audit import Actor as AuditActor
from cvis.audit import audited
from cvis.config import Settings
from cvis.policy import Actor, Resource
from cvis.portal import alerts, posters, registries
from cvis.portal.settings import PortalSettings
from cvis.store.db import Store

COMPONENT = "portal"
Action = Callable[[Store, PortalSettings], "Published"]


@dataclass(frozen=True)
class Published:
    poster_id: str
    url: str
    event_id: int
    delivered: int = 0

    def to_dict(self) -> dict[str, str]:
        return {"poster_id": self.poster_id, "url": self.url}


_PUBLIC_STORES: dict[str, Store] = {}


def public_store(store: Store, settings: PortalSettings) -> Store:
    """Where the public tables live: the store's database, or CVIS_PUBLIC_DATABASE_URL."""
    url = settings.database_url
    if url == store.settings.database_url:
        return store
    if url not in _PUBLIC_STORES:
        _PUBLIC_STORES[url] = Store(Settings(home=store.settings.home, database_url=url))
    return _PUBLIC_STORES[url]


def _who(actor: Actor) -> AuditActor:
    return AuditActor(actor.name, actor.agency, actor.client or f"cli@{platform.node()}")


def poster_url(settings: PortalSettings, poster_id: str) -> str:
    return f"{settings.public_url}/posters/{poster_id}"


def publish(store: Store, settings: PortalSettings, actor: Actor, path: Path) -> Published:
    """Publish the poster file a person approved; subscribers near its areas are alerted."""
    return publish_draft(store, settings, actor, lambda: posters.load_draft(path),
                         f"file:{path}")


def publish_draft(store: Store, settings: PortalSettings, actor: Actor,
                  load: Callable[[], posters.PosterDraft], source: str) -> Published:
    """Publish what ``load`` gives (a file, or the analyst application's editor)."""
    with audited(store, COMPONENT, "poster.publish", source,
                 actor.purpose or "publish a poster", _who(actor)) as note:
        draft = load()
        policy.require(actor, POSTERS_PUBLISH, Resource("poster", None, actor.agency))
        with public_store(store, settings).session() as session:
            poster, event = posters.insert_poster(session, draft, actor.agency,
                                                  settings.asset_dir)
            poster_id, event_id = poster.poster_id, event.id
        note.object = f"poster:{poster_id}"
    sent = alerts.deliver(public_store(store, settings), settings, event_id)
    return Published(poster_id, poster_url(settings, poster_id), event_id, sent)


def _change(store: Store, settings: PortalSettings, actor: Actor, poster_id: str, event: str,
            reason: str, load: Callable[[], posters.PosterDraft] | None = None,
            status: str = "") -> Published:
    with audited(store, COMPONENT, event, f"poster:{poster_id}", reason, _who(actor)):
        draft = load() if load else None
        with public_store(store, settings).session() as session:
            poster = posters.find_poster(session, poster_id)
            policy.require(actor, POSTERS_PUBLISH,
                           Resource("poster", poster_id, poster.agency, {"status": poster.status}))
            if draft is not None:
                change = posters.replace_poster(session, poster, draft, settings.asset_dir)
            else:
                change = posters.change_status(session, poster, status, reason)
            event_id = change.id
    sent = alerts.deliver(public_store(store, settings), settings, event_id)
    return Published(poster_id, poster_url(settings, poster_id), event_id, sent)


def update(store: Store, settings: PortalSettings, actor: Actor, poster_id: str,
           path: Path, reason: str = "poster updated") -> Published:
    return update_draft(store, settings, actor, poster_id, lambda: posters.load_draft(path),
                        reason)


def update_draft(store: Store, settings: PortalSettings, actor: Actor, poster_id: str,
                 load: Callable[[], posters.PosterDraft], reason: str = "poster updated"
                 ) -> Published:
    return _change(store, settings, actor, poster_id, "poster.update", reason, load=load)


def captured(store: Store, settings: PortalSettings, actor: Actor, poster_id: str,
             note: str = "captured") -> Published:
    return _change(store, settings, actor, poster_id, "poster.captured", note,
                   status="captured")


def withdraw(store: Store, settings: PortalSettings, actor: Actor, poster_id: str,
             reason: str) -> Published:
    if not reason.strip():
        raise posters.PosterInvalid("a withdrawal needs a reason")
    return _change(store, settings, actor, poster_id, "poster.withdraw", reason,
                   status="withdrawn")


def refresh_registries(store: Store, settings: PortalSettings, actor: Actor) -> dict[str, str]:
    """Fetch the connected jurisdictions' daily copies into the public tables."""
    directory = registries.load_directory(registries.load_endpoints(settings.jurisdictions_file),
                                          settings.registry_directory or registries.DIRECTORY)
    with audited(store, COMPONENT, "registries.refresh", "registry daily copies",
                 actor.purpose or "keep the daily copies", _who(actor)) as note, \
            public_store(store, settings).session() as session:
        outcome = registries.refresh_daily_copies(session, directory)
        note.detail = ", ".join(f"{k}: {v}" for k, v in sorted(outcome.items()))
    return outcome
