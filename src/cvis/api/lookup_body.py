"""Fast parsing of batch lookup bodies (100,000 hashes): plain JSON checks, then the one gate.

Pydantic validation cost ~30 us a hash here, a third of a second per 10,000; these
checks give the same 4xx answers for a tenth of that. LOOKUP_BODY_SCHEMA documents it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException

from cvis.api.settings import MAX_HASHES_PER_CALL
from cvis.identify.matcher import Query
from cvis.signals import get_signal_type
from cvis.signals.base import InvalidSignalValue, SignalType

HASH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["signal", "value"],
    "additionalProperties": False,
    "properties": {
        "signal": {"type": "string", "maxLength": 30, "description": "md5, sha1, sha256 or pdq"},
        "value": {"type": "string", "maxLength": 200},
        "quality": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
    },
}
LOOKUP_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["hashes"],
    "additionalProperties": False,
    "properties": {
        "hashes": {"type": "array", "maxItems": MAX_HASHES_PER_CALL, "items": HASH_SCHEMA},
        "sets": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 200}},
    },
}


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(422, message)


def _query(i: int, item: Any, types: dict[str, type[SignalType]]) -> Query:
    if not isinstance(item, dict) or not {"signal", "value"} <= item.keys() <= {
        "signal",
        "value",
        "quality",
    }:
        raise _unprocessable(f"hashes[{i}] must be an object with 'signal' and 'value'")
    signal, value, quality = item["signal"], item["value"], item.get("quality")
    if not isinstance(signal, str) or not isinstance(value, str) or len(value) > 200:
        raise _unprocessable(f"hashes[{i}]: 'signal' and 'value' must be strings")
    if quality is not None and (type(quality) is not int or not 0 <= quality <= 100):
        raise _unprocessable(f"hashes[{i}]: 'quality' must be an integer from 0 to 100")
    try:
        kind = types.get(signal) or types.setdefault(signal, get_signal_type(signal))
        return Query(kind.name, kind.validate(value), quality)
    except InvalidSignalValue as exc:
        raise HTTPException(400, f"hashes[{i}]: {exc}") from None


def parse_lookup_body(raw: bytes) -> tuple[list[Query], list[str] | None]:
    """The queries and the named sets, or an HTTPException naming the first problem."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not valid JSON") from None
    except RecursionError:
        raise HTTPException(400, "the body's JSON is nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("hashes"), list):
        raise _unprocessable("the body must be an object with a 'hashes' list")
    if not data.keys() <= {"hashes", "sets"}:
        raise _unprocessable(
            f"unexpected field(s): {', '.join(sorted(data.keys() - {'hashes', 'sets'}))}"
        )
    hashes, sets = data["hashes"], data.get("sets")
    if len(hashes) > MAX_HASHES_PER_CALL:
        raise _unprocessable(f"at most {MAX_HASHES_PER_CALL} hashes per call ({len(hashes)} given)")
    if sets is not None and not (isinstance(sets, list) and all(isinstance(s, str) for s in sets)):
        raise _unprocessable("'sets' must be a list of set names")
    types: dict[str, type[SignalType]] = {}
    return [_query(i, item, types) for i, item in enumerate(hashes)], sets
