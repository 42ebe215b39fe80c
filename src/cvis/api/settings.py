"""Service settings a deployment tunes, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MAX_UPLOAD_ENV = "CVIS_MAX_UPLOAD_BYTES"
EVIDENCE_ROOTS_ENV = "CVIS_EVIDENCE_ROOTS"
EVIDENCE_URI_ROOTS_ENV = "CVIS_EVIDENCE_URI_ROOTS"
REFRESH_ENV = "CVIS_INDEX_REFRESH_SECONDS"
CACHE_ENV = "CVIS_AUTH_CACHE_SECONDS"
LINKAGE_STATE_ENV = "CVIS_LINKAGE_STATE"
LINKAGE_AGENCY_ENV = "CVIS_LINKAGE_AGENCY"
FAST_LOOKUP_ENV = "CVIS_FAST_LOOKUP"
MAX_HASHES_PER_CALL = 100_000


def _flag(name: str) -> bool:
    """On unless the variable says 0, false, no or off."""
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class ServiceSettings:
    max_upload_bytes: int = 64 * 1024 * 1024
    evidence_roots: tuple[Path, ...] = field(default_factory=tuple)
    # Object-store prefixes (s3://bucket/prefix) POST /scans may read; none: URIs are refused
    evidence_uri_roots: tuple[str, ...] = field(default_factory=tuple)
    index_refresh_seconds: float = 3.0
    background_refresh: bool = True
    # How stale "who is this token" and "which sets may this agency see" may be: a revoked
    # token stops working within this many seconds (0: checked on every request).
    cache_seconds: float = 2.0
    # Logon attempts one address may make a minute (then 429), whatever the user names.
    logon_attempts_per_minute: int = 20
    # Resume API scans whose worker died (checked when the app starts).
    recover_scans: bool = True
    # The registry cross-match's state directory the web's link review reads (None: the
    # store's home/linkage, where `cvis link run` keeps it by default), and the agency whose
    # staff review its links ("": none until a deployment names one).
    linkage_state: Path | None = None
    linkage_agency: str = ""
    # Run the tip line's deadline scheduler while the app is served (its lifespan); `cvis
    # serve` runs one itself beside its workers and turns this off in them.
    tip_scheduler: bool = False
    # Answer lookups that pass every check before the middleware stack (cvis.api.fast_lookup);
    # off: every lookup takes the whole application (same answers and records, slower).
    fast_lookup: bool = True


def uri_roots(text: str) -> tuple[str, ...]:
    """The allowed object-store prefixes, separated by whitespace; ValueError (at start-up,
    naming the entry without any credentials) for one that is not a plain ``scheme://bucket/
    prefix``."""
    from cvis.media.objects import ObjectStoreError, check_key, check_uri, is_uri, safe_uri

    roots = []
    for root in text.split():
        shown = safe_uri(root) if is_uri(root) else root
        try:
            if not is_uri(root):
                raise ObjectStoreError("not an object-store URI (s3:// or gs://)")
            check_uri(root)
            check_key(root)
        except ObjectStoreError as exc:
            raise ValueError(f"{EVIDENCE_URI_ROOTS_ENV}: {shown}: {exc}") from None
        roots.append(shown)
    return tuple(roots)


def load_service_settings() -> ServiceSettings:
    roots = os.environ.get(EVIDENCE_ROOTS_ENV, "")
    return ServiceSettings(
        max_upload_bytes=int(os.environ.get(MAX_UPLOAD_ENV, 64 * 1024 * 1024)),
        evidence_roots=tuple(Path(p).resolve() for p in roots.split(os.pathsep) if p),
        evidence_uri_roots=uri_roots(os.environ.get(EVIDENCE_URI_ROOTS_ENV, "")),
        index_refresh_seconds=float(os.environ.get(REFRESH_ENV, 3.0)),
        cache_seconds=float(os.environ.get(CACHE_ENV, 2.0)),
        linkage_state=Path(os.environ[LINKAGE_STATE_ENV]).expanduser()
        if os.environ.get(LINKAGE_STATE_ENV) else None,
        linkage_agency=os.environ.get(LINKAGE_AGENCY_ENV, ""),
        tip_scheduler=_flag("CVIS_TIP_SCHEDULER"),
        fast_lookup=_flag(FAST_LOOKUP_ENV),
    )
