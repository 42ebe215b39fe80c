"""Signed checkpoints of the chain head, written to a file outside the database.

After every commit of audit records, a line ``{"seq", "head", "at", "db", "mac"}``
is appended (the MAC keyed like the chain). ``verify`` then knows how long the chain
was and what its head was at each moment: a truncated tail, a wiped log or an older
copy of the database put back no longer match, even if the head row was rolled
back with them. A deployment may point CVIS_AUDIT_CHECKPOINTS at a file on another
machine's share (a witness) so that whoever restores the database cannot also
restore the checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cvis.audit.digest import utcnow
from cvis.config import Settings

CHECKPOINTS_ENV = "CVIS_AUDIT_CHECKPOINTS"
CHECKPOINTS_FILE = "audit-checkpoints.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    at: str


def checkpoints_path(settings: Settings) -> Path:
    return Path(os.environ.get(CHECKPOINTS_ENV) or settings.home / CHECKPOINTS_FILE)


def database_id(settings: Settings) -> str:
    """Which database a checkpoint speaks for (the URL without its password, hashed)."""
    url = settings.database_url
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return hashlib.sha256((scheme + sep + rest).encode()).hexdigest()[:16]


def _mac(key: bytes, seq: int, head: str, at: str, db: str) -> str:
    message = f"cvis-audit-checkpoint\n{seq}\n{head}\n{at}\n{db}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def write_checkpoint(settings: Settings, key: bytes, seq: int, head: str) -> None:
    """Append one signed line (one write, O_APPEND: concurrent writers do not interleave)."""
    path = checkpoints_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    at, db = utcnow().isoformat(), database_id(settings)
    line = json.dumps({"seq": seq, "head": head, "at": at, "db": db,
                       "mac": _mac(key, seq, head, at, db)}, separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class CheckpointForged(ValueError):
    """A checkpoint line whose MAC does not hold: the file was edited."""


def read_checkpoints(settings: Settings, key: bytes) -> list[Checkpoint]:
    """This database's checkpoints, in file order; CheckpointForged on a bad line."""
    path = checkpoints_path(settings)
    if not path.exists():
        return []
    db = database_id(settings)
    found = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                seq, head, at, line_db, mac = (int(data["seq"]), str(data["head"]),
                                               str(data["at"]), str(data["db"]), str(data["mac"]))
            except (ValueError, KeyError, TypeError):
                if not line.endswith("\n"):
                    continue  # a write cut short by a crash: the last line only
                raise CheckpointForged(f"{path} line {number} is not a checkpoint") from None
            if not hmac.compare_digest(mac, _mac(key, seq, head, at, line_db)):
                raise CheckpointForged(f"{path} line {number} does not carry a valid signature")
            if line_db == db:
                found.append(Checkpoint(seq, head, at))
    return found
