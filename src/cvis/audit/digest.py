"""The audit chain's arithmetic (what each record's HMAC covers), with no database import:
the full writer (``cvis.audit.chain``) and the light one (``cvis.audit.quick``) share it."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
HEAD_ID = 1
CHAINED_FIELDS = (
    "component", "event", "user", "agency", "outcome", "client", "object", "purpose", "detail",
    "claimed",
)


def canonical_time(at: datetime) -> str:
    """SQLite hands back naive UTC, PostgreSQL aware: both hash the same."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_digest(
    key: bytes, prev_hash: str, seq: int, at: datetime, fields: dict[str, Any]
) -> str:
    body = [seq, canonical_time(at)] + [fields.get(name) or "" for name in CHAINED_FIELDS]
    payload = prev_hash + "\n" + json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _storable(value: str) -> str:
    """PostgreSQL text cannot hold NUL: every field (a user name typed at logon too) keeps it
    as the four characters \\x00, on both backends, before it is hashed."""
    return value.replace("\x00", "\\x00") if isinstance(value, str) else value


def utcnow() -> datetime:
    return datetime.now(UTC)
