"""Where linkage keeps its state when no `--state` directory is given."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cvis_home() -> Path:
    """`$CVIS_HOME`, else the platform's user-data directory for cvis."""
    env = os.environ.get("CVIS_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("cvis"))


def default_state_dir() -> Path:
    """Linkage state lives beside, not inside, the main store (see docs/linkage.md)."""
    return cvis_home() / "linkage"
