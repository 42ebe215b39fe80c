"""What a notice or letter says, per language (Jinja2 + Babel), as text, PDF and signed JSON.

Signatures are Ed25519 over the canonical JSON (sorted keys, no spaces) of the body; the
key lives in ``$CVIS_HOME/keys/notice-signing.pem`` (made on first use) and its id is the
first 16 hex digits of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"
CHANNELS = Path(__file__).parent / "data" / "channels.toml"
SIGNED_FORMAT = "cvis-foreign-notice/1"
TITLES = {"en": {"removal": "Notice of removal", "traveller": "Notice of travel",
                 "correction": "Correction of a notice"},
          "es": {"removal": "Comunicación de expulsión", "traveller": "Comunicación de viaje",
                 "correction": "Corrección de una comunicación"},
          "fr": {"removal": "Avis d'éloignement", "traveller": "Avis de voyage",
                 "correction": "Correction d'un avis"}}


@dataclass(frozen=True)
class Channel:
    country: str
    kind: str  # liaison_mailbox | green_notice | diffusion
    address: str
    language: str


@cache
def _channels(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def channel_for(country: str, path: Path = CHANNELS) -> Channel:
    doc = _channels(path)
    raw = doc.get(country.upper()) or doc["*"]
    return Channel(country.upper(), raw["kind"], raw["address"], raw.get("language", "en"))


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def country_name(country: str, language: str) -> str:
    try:
        return str(Locale.parse(language).territories.get(country.upper(), country))
    except (ValueError, TypeError):
        return country


def render(template: str, language: str, context: dict[str, Any]) -> str:
    """A template in the language asked for, else English."""
    env = _env()
    name = f"{template}.{language}.txt"
    if not (TEMPLATES / name).is_file():
        name, language = f"{template}.en.txt", "en"
    ctx = dict(context)
    ctx.setdefault("country_name", country_name(ctx.get("country", ""), language))
    ctx.setdefault("title", TITLES.get(language, TITLES["en"]).get(ctx.get("kind", ""), ""))
    return env.get_template(name).render(**ctx)


def local_date(value: date | datetime, language: str) -> str:
    if isinstance(value, datetime):
        return format_datetime(value, "medium", locale=language)
    return format_date(value, "long", locale=language)


def pdf(text: str, path: Path, title: str) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Preformatted, SimpleDocTemplate

    styles = getSampleStyleSheet()
    SimpleDocTemplate(str(path), pagesize=A4, title=title).build(
        [Preformatted(text, styles["Code"])])
    return path


# ---------------------------------------------------------------------- signing


def _key_path(home: Path) -> Path:
    return home / "keys" / "notice-signing.pem"


def signing_key(home: Path) -> Ed25519PrivateKey:
    path = _key_path(home)
    if path.is_file():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def sign(body: dict[str, Any], home: Path) -> tuple[str, str]:
    key = signing_key(home)
    return base64.b64encode(key.sign(canonical(body))).decode(), key_id(key.public_key())


def signed_document(body: dict[str, Any], signature: str, kid: str, home: Path
                    ) -> dict[str, Any]:
    """The machine-readable notice: body, signature, key id and the public key to check it."""
    public = signing_key(home).public_key().public_bytes(serialization.Encoding.Raw,
                                                         serialization.PublicFormat.Raw)
    return {"format": SIGNED_FORMAT, "body": body, "signature": {
        "alg": "Ed25519", "key_id": kid, "value": signature,
        "public_key": base64.b64encode(public).decode()}}


def verify(document: dict[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature

    sig = document["signature"]
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"]))
    try:
        public.verify(base64.b64decode(sig["value"]), canonical(document["body"]))
    except InvalidSignature:
        return False
    return key_id(public) == sig["key_id"]
