"""One gate for every channel: a tip's JSON in, a normalised TipInput out, or TipRejected.

Text is kept as written (markup is escaped wherever it is shown); control characters
are dropped and every field has a size limit. Pictures and videos from the public are
refused: the tip line takes descriptions, URLs and (from partners) hashes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import phonenumbers

from cvis.signals import guess_crypto_signal, normalize
from cvis.signals.base import InvalidSignalValue

CHANNELS = ("web", "phone", "referral", "sms")
MAX_NARRATIVE = 20_000
MAX_FIELD = 500
MAX_ITEMS = 50
MAX_HASHES = 500
HONEYPOT_FIELDS = ("website", "homepage", "fax")  # hidden form fields a person never fills
MEDIA_FIELDS = ("media", "attachments", "attachment", "files", "images", "image", "photos",
                "photo", "video", "videos", "upload", "uploads")
NO_MEDIA = (
    "the tip line does not accept pictures or videos: sending or keeping such material is "
    "itself a crime and would harm the child again. Describe what you saw and give the web "
    "address (URL) where you saw it; investigators will obtain it lawfully"
)
_DATA_URI = re.compile(r"data:(image|video)/", re.IGNORECASE)
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")


class TipRejected(ValueError):
    """The tip was not accepted; the message says why. Nothing was stored."""


@dataclass
class TipInput:
    """A tip after the gate: every field normalised, sizes checked."""

    channel: str
    narrative: str
    anonymous: bool = False
    location: dict[str, str] = field(default_factory=dict)
    subject: dict[str, Any] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    hashes: list[dict[str, str]] = field(default_factory=list)
    contact: str = ""
    callback: str = ""
    immediate_danger: bool = False
    retention_deadline: datetime | None = None
    idempotency_key: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def clean_text(value: Any, name: str, limit: int = MAX_FIELD) -> str:
    """A string without control characters, within its size limit."""
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise TipRejected(f"{name} must be text")
    text = unicodedata.normalize("NFC", str(value)).translate(_CONTROL).strip()
    if len(text) > limit:
        raise TipRejected(f"{name} is too long ({len(text)} characters; at most {limit})")
    if _DATA_URI.search(text):
        raise TipRejected(f"{name}: {NO_MEDIA}")
    return text


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name) or {}
    if not isinstance(value, dict):
        raise TipRejected(f"{name} must be an object")
    return value


def _list(payload: dict[str, Any], name: str, limit: int = MAX_ITEMS) -> list[Any]:
    value = payload.get(name) or []
    if not isinstance(value, list):
        raise TipRejected(f"{name} must be a list")
    if len(value) > limit:
        raise TipRejected(f"{name} has {len(value)} entries; at most {limit}")
    return value


def parse_date(value: Any, name: str) -> date | None:
    text = clean_text(value, name, 40)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise TipRejected(f"{name} must be a date as YYYY-MM-DD, not {text!r}") from None


def _parse_moment(value: Any, name: str) -> datetime | None:
    text = clean_text(value, name, 40)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TipRejected(f"{name} must be an ISO 8601 date and time, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


def _location(payload: dict[str, Any]) -> dict[str, str]:
    raw = _object(payload, "location")
    location = {k: clean_text(raw.get(k), f"location.{k}", 300)
                for k in ("zip", "city", "state", "county", "address", "country")}
    if location["zip"] and not re.fullmatch(r"\d{5}(-\d{4})?", location["zip"]):
        raise TipRejected(f"location.zip must be a US ZIP code, not {location['zip']!r}")
    location["zip"] = location["zip"][:5]
    location["state"] = location["state"].upper()
    return {k: v for k, v in location.items() if v}


def _subject(payload: dict[str, Any]) -> dict[str, Any]:
    raw = _object(payload, "subject")
    subject: dict[str, Any] = {"name": clean_text(raw.get("name"), "subject.name", 200)}
    dob = parse_date(raw.get("dob"), "subject.dob")
    subject["dob"] = dob.isoformat() if dob else ""
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or len(aliases) > MAX_ITEMS:
        raise TipRejected("subject.aliases must be a list of names")
    subject["aliases"] = [a for a in (clean_text(a, "subject.aliases", 200) for a in aliases) if a]
    if raw.get("absconder") is True:
        subject["absconder"] = True
    return {k: v for k, v in subject.items() if v}


def _url(value: Any) -> str:
    text = clean_text(value, "urls", 2000)
    if text and not re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        text = "http://" + text
    return text


def _hashes(payload: dict[str, Any]) -> list[dict[str, str]]:
    hashes = []
    for i, raw in enumerate(_list(payload, "hashes", MAX_HASHES)):
        if isinstance(raw, str):
            raw = {"value": raw}
        if not isinstance(raw, dict):
            raise TipRejected(f"hashes[{i}] must be an object with signal and value")
        value = clean_text(raw.get("value"), f"hashes[{i}].value", 200)
        try:
            signal = clean_text(raw.get("signal"), "signal", 30).lower()
            signal = signal or guess_crypto_signal(value)
            hashes.append({"signal": signal, "value": normalize(signal, value)})
        except InvalidSignalValue as exc:
            raise TipRejected(f"hashes[{i}]: {exc}") from None
    return hashes


def normalise_phone(value: Any, region: str = "US") -> str:
    """A call-back number in E.164, or TipRejected saying why."""
    text = clean_text(value, "callback", 40)
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise TipRejected(f"call-back number {text!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise TipRejected(f"call-back number {text!r} is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _refuse_media(payload: dict[str, Any]) -> None:
    for name in MEDIA_FIELDS:
        if payload.get(name):
            raise TipRejected(NO_MEDIA)


def _flag(payload: dict[str, Any], name: str) -> bool:
    value = payload.get(name, False)
    if not isinstance(value, bool):
        raise TipRejected(f"{name} must be true or false")
    return value


def parse_tip(payload: Any, channel: str | None = None) -> TipInput:
    """The gate every channel passes: TipRejected names the first problem found."""
    if not isinstance(payload, dict):
        raise TipRejected("a tip must be a JSON object")
    _refuse_media(payload)
    if any(clean_text(payload.get(name), name) for name in HONEYPOT_FIELDS):
        raise TipRejected("submission refused")
    channel = channel or clean_text(payload.get("channel"), "channel", 20)
    if channel not in CHANNELS:
        raise TipRejected(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    narrative = clean_text(payload.get("narrative"), "narrative", MAX_NARRATIVE)
    if not narrative:
        raise TipRejected("narrative is required: say what happened, where and when")
    anonymous = _flag(payload, "anonymous")
    tip = TipInput(
        channel=channel,
        narrative=narrative,
        anonymous=anonymous,
        location=_location(payload),
        subject=_subject(payload),
        urls=[u for u in (_url(v) for v in _list(payload, "urls")) if u],
        accounts=[a for a in (clean_text(v, "accounts", 300) for v in _list(payload, "accounts"))
                  if a],
        hashes=_hashes(payload),
        contact="" if anonymous else clean_text(payload.get("contact"), "contact", 1000),
        callback="" if anonymous else normalise_phone(payload.get("callback")),
        immediate_danger=_flag(payload, "immediate_danger"),
        retention_deadline=_parse_moment(payload.get("retention_deadline"), "retention_deadline"),
        idempotency_key=clean_text(payload.get("idempotency_key"), "idempotency_key", 200),
    )
    tip.details = {k: _detail(payload.get(k), k) for k in ("reporter", "victim", "incident")
                   if payload.get(k)}
    return tip


def _detail(value: Any, name: str) -> Any:
    """A referral's free-form part (reporter, victim): text or a flat object of text."""
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise TipRejected(f"{name} has too many fields")
        return {clean_text(k, name, 100): clean_text(v, f"{name}.{k}", 1000)
                for k, v in value.items() if v is not None}
    return clean_text(value, name, 1000)
