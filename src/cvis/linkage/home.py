"""Where linkage keeps its state when no `--state` directory is given."""

from __future__ import annotations

from pathlib import Path

from cvis.config import load_settings


def default_state_dir() -> Path:
    """Linkage state lives beside, not inside, the main store (see docs/linkage.md)."""
    return load_settings().home / "linkage"
