"""The portal's one-way gate into the tip line: a tip goes in, only its receipt comes back.

The public application never reads the internal store; this gate hands the tip to the tip
line's intake (``cvis.tips.intake.submit_tip``, channel ``web``) and returns the receipt
(and, for an anonymous tip, the passphrase that lets its sender add to it later).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cvis.audit import Actor as AuditActor
from cvis.audit import audited
from cvis.config import Settings
from cvis.store.db import Store

MEDIA_FIELDS = ("media", "files", "file", "attachments", "attachment", "photos", "images",
                "videos", "upload", "uploads")
NO_MEDIA = ("The public tip line does not take pictures or videos. Do not send, save or "
            "share abusive material: describe what you saw and where, and give the link; "
            "investigators collect it lawfully.")
PUBLIC_FIELDS = ("receipt", "passphrase")
PORTAL = AuditActor("public", "", "portal")


class TipInvalid(ValueError):
    pass


class TipLineClosed(RuntimeError):
    """The tip line's intake is not installed or not reachable."""


Intake = Callable[[dict[str, Any], str], dict[str, Any]]


def check_payload(payload: Any) -> dict[str, Any]:
    """The tip JSON as ``cvis tip submit`` takes it, channel web; no media, ever."""
    if not isinstance(payload, dict):
        raise TipInvalid("a tip is a JSON object")
    present = [k for k in MEDIA_FIELDS if k in payload]
    if present:
        raise TipInvalid(NO_MEDIA)
    channel = payload.get("channel", "web")
    if channel != "web":
        raise TipInvalid("tips through the public portal have channel 'web'")
    narrative = payload.get("narrative")
    if not isinstance(narrative, str) or not narrative.strip():
        raise TipInvalid("a tip needs a narrative: what do you know?")
    return {**payload, "channel": "web"}


class TipLine:
    """Calls the intake with a session on the internal store, audited as the public."""

    def __init__(self, settings: Settings, intake: Intake | None = None) -> None:
        self.settings, self._intake = settings, intake
        self._store: Store | None = None

    def _store_for_intake(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    def _default_intake(self, payload: dict[str, Any], source: str) -> dict[str, Any]:
        try:
            from cvis.tips import intake
        except ImportError as exc:
            raise TipLineClosed("the tip line is not connected") from exc
        try:
            with self._store_for_intake().session() as session:
                return dict(intake.submit_tip(session, payload, channel="web",
                                              source=source or None))
        except intake.TipRejected as exc:
            raise TipInvalid(str(exc)) from None

    def submit(self, payload: Any, client: str = "", poster: str = "") -> dict[str, Any]:
        """Hand one tip to the intake. ``client`` (the sender's address) is only the intake's
        rate-limit key, never stored; ``poster`` is the poster the tip was sent from."""
        tip = check_payload(payload)
        if poster:
            tip["incident"] = {"poster": poster}
        store = self._store_for_intake()
        about = f"poster:{poster}" if poster else "portal"
        with audited(store, "portal", "tip.submit", about, "a tip from the public",
                     PORTAL) as note:
            answer = (self._intake or self._default_intake)(tip, client)
            note.object = f"receipt:{answer.get('receipt', '')} {about}"
        return {k: answer[k] for k in PUBLIC_FIELDS if answer.get(k)}

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
