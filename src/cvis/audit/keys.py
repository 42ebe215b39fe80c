"""The audit key: an HMAC key that does not live in the database.

Taken from CVIS_AUDIT_KEY (at least 32 characters) or else from the key file
(CVIS_AUDIT_KEY_FILE, default ``audit.key`` in CVIS_HOME), which is made on first
use with mode 0600. Someone who can write the database but cannot read this key
cannot extend or rewrite the chain without ``cvis audit verify`` noticing.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cvis.config import Settings

KEY_ENV = "CVIS_AUDIT_KEY"
KEY_FILE_ENV = "CVIS_AUDIT_KEY_FILE"
KEY_FILE = "audit.key"
MIN_KEY_CHARS = 32


class AuditKeyError(RuntimeError):
    """The audit key is missing, too short or readable by others."""


def key_path(settings: Settings) -> Path:
    return Path(os.environ.get(KEY_FILE_ENV) or settings.home / KEY_FILE)


def load_key(settings: Settings, *, create: bool = True) -> bytes:
    """The key bytes; ``create`` makes a new key file when there is none."""
    given = os.environ.get(KEY_ENV)
    if given is not None:
        if len(given) < MIN_KEY_CHARS:
            raise AuditKeyError(f"{KEY_ENV} must have at least {MIN_KEY_CHARS} characters")
        return given.encode("utf-8")
    path = key_path(settings)
    if not path.exists():
        if not create:
            raise AuditKeyError(f"no audit key at {path} (nor in {KEY_ENV})")
        _create(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditKeyError(f"{path} is readable or writable by others: chmod 600 it")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_KEY_CHARS:
        raise AuditKeyError(f"{path} holds no usable key")
    return key.encode("ascii")


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
