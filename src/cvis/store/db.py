"""Engine, sessions and automatic schema upgrade; SQLite/PostgreSQL differences live here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cvis.config import Settings, load_settings
from cvis.store.schema_head import MIGRATIONS
from cvis.store.schema_head import file_head as _file_head

if TYPE_CHECKING:
    from alembic.config import Config



def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _enable_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        _enable_sqlite_pragmas(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def schema_is_current(engine: Engine) -> bool:
    if _quick_check(engine):
        return True
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def _quick_check(engine: Engine) -> bool:
    """True when the database is surely at the files' head; False means "ask Alembic"."""
    head = _file_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no version table yet: a new database
        return False
    return [tuple(r) for r in rows] == [(head,)]


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


class Store:
    """One database: its engine and a session factory, upgraded on first use."""

    def __init__(self, settings: Settings | None = None, *, auto_upgrade: bool = True) -> None:
        self.settings = settings or load_settings()
        self.engine = make_engine(self.settings.database_url)
        if auto_upgrade and not schema_is_current(self.engine):
            upgrade(self.engine)
        # Each session knows its store's settings (services find the audit key from them).
        self._sessions = sessionmaker(self.engine, expire_on_commit=False,
                                      info={"settings": self.settings})

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
