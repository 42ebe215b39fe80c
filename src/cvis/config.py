"""Where cvis keeps its data: resolved once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

HOME_ENV = "CVIS_HOME"
DATABASE_ENV = "CVIS_DATABASE_URL"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str

    @property
    def index_dir(self) -> Path:
        """Index files live beside the database, rebuilt from it when stale."""
        return self.home / "index"


def load_settings() -> Settings:
    home = Path(os.environ.get(HOME_ENV) or platformdirs.user_data_dir("cvis")).expanduser()
    url = os.environ.get(DATABASE_ENV) or f"sqlite:///{home / 'cvis.db'}"
    return Settings(home=home, database_url=url)
