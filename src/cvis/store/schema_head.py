"""The newest schema revision, read from the migration files without importing Alembic or
SQLAlchemy (the store's quick check and the light audit writer both ask it)."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$', re.M)


@lru_cache(maxsize=1)
def file_head() -> str | None:
    """The newest migration, read from the files' ``revision``/``down_revision`` lines
    (Alembic itself takes a quarter of a second to import); None when not one plain head."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {k: _literal(v) for k, v in _REVISION.findall(path.read_text(encoding="utf-8"))}
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None  # a merge (a tuple) or a computed value: let Alembic decide
        revisions.add(revision)
        if down is not None:
            parents.add(down)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _literal(source: str) -> object:
    try:
        return ast.literal_eval(source.split("#", 1)[0].strip())
    except (ValueError, SyntaxError):
        return ...
