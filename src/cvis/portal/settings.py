"""The portal's settings, resolved once from the environment (CVIS_PUBLIC_*, CVIS_SMTP_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cvis.config import Settings, load_settings


@dataclass(frozen=True)
class RateLimits:
    """Requests a second per client address, with a burst; 0 turns a class off."""

    pages: float = 200.0
    pages_burst: int = 400
    writes: float = 0.2  # tips and subscriptions: one every five seconds
    writes_burst: int = 5
    searches: float = 1.0
    searches_burst: int = 10


@dataclass(frozen=True)
class PortalSettings:
    store: Settings
    public_url: str = "http://127.0.0.1:8080"
    public_database_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "alerts@cvis.invalid"
    vapid_subject: str = "mailto:alerts@cvis.invalid"
    jurisdictions_file: Path | None = None
    registry_directory: Path | None = None  # None: the shipped directory
    jurisdiction_timeout: float = 15.0
    timeouts_before_skip: int = 2
    skip_seconds: float = 300.0
    cache_seconds: float = 1.0
    captured_days: int = 14
    push_to_loopback: bool = False  # tests: a local push service on 127.0.0.1
    limits: RateLimits = field(default_factory=RateLimits)

    @property
    def asset_dir(self) -> Path:
        """Published photographs, by SHA-256 (public files: never evidence)."""
        return self.store.home / "public" / "photos"

    @property
    def database_url(self) -> str:
        return self.public_database_url or self.store.database_url


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def load_portal_settings(store: Settings | None = None) -> PortalSettings:
    jurisdictions = _env("CVIS_PUBLIC_JURISDICTIONS")
    directory = _env("CVIS_PUBLIC_REGISTRY_DIRECTORY")  # a deployment's own directory CSV
    page_rate = float(_env("CVIS_PUBLIC_PAGE_RATE", "200"))
    return PortalSettings(
        store=store or load_settings(),
        public_url=_env("CVIS_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/"),
        public_database_url=_env("CVIS_PUBLIC_DATABASE_URL"),
        smtp_host=_env("CVIS_SMTP_HOST"),
        smtp_port=int(_env("CVIS_SMTP_PORT", "25")),
        smtp_from=_env("CVIS_SMTP_FROM", "alerts@cvis.invalid"),
        vapid_subject=_env("CVIS_VAPID_SUBJECT", "mailto:alerts@cvis.invalid"),
        jurisdictions_file=Path(jurisdictions) if jurisdictions else None,
        registry_directory=Path(directory) if directory else None,
        jurisdiction_timeout=float(_env("CVIS_PUBLIC_JURISDICTION_TIMEOUT", "15")),
        limits=RateLimits(pages=page_rate),
    )
