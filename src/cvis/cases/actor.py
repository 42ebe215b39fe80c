"""Who is acting: the name recorded on every case change and review decision."""

from __future__ import annotations

import getpass
import os

ACTOR_ENV = "CVIS_USER"


def current_actor(explicit: str | None = None) -> str:
    """An explicit name wins, then CVIS_USER, then the operating-system account."""
    if explicit:
        return explicit
    try:
        return os.environ.get(ACTOR_ENV) or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
