"""Small builders for hash-set tests: benign synthetic hashes and JSON-lines lists."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from cvis.hashsets.records import KnownRecord
from cvis.hashsets.service import export_set, import_stream, iter_set_records
from cvis.store.db import Store


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def pdq(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def line(media_id: str, *, deleted: bool = False, **fields: Any) -> str:
    data: dict[str, Any] = {"media_id": media_id,
                            "signals": {} if deleted else {"md5": md5(media_id)}}
    if deleted:
        data["deleted"] = True
    data.update(fields)
    return json.dumps(data)


def import_lines(store: Store, name: str, *lines: str) -> Any:
    with store.session() as session:
        return import_stream(session, io.StringIO("\n".join(lines) + "\n"), name=name,
                             format_name="jsonl")


def records(store: Store, name: str, version: int | None = None) -> dict[str, KnownRecord]:
    with store.session() as session:
        return {r.media_id: r for r in iter_set_records(session, name, version)}


def exported(store: Store, name: str, fmt: str = "jsonl", version: int | None = None) -> str:
    out = io.StringIO()
    with store.session() as session:
        export_set(session, name, fmt, out, version)
    return out.getvalue()
