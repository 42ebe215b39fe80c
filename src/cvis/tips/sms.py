"""SMS tips through a Twilio-compatible webhook, accepted only with a valid signature.

Twilio signs each request: HMAC-SHA1, keyed with the account's auth token, over the
full URL followed by every POST parameter's name and value in name order, base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

AUTH_TOKEN_ENV = "CVIS_TWILIO_AUTH_TOKEN"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(auth_token: str, url: str, params: Mapping[str, str],
                    signature: str) -> bool:
    if not auth_token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature)


def sms_tip(params: Mapping[str, str]) -> dict[str, Any]:
    """A text message as tip JSON: the sender's number is the call-back number."""
    return {"channel": "sms", "narrative": params.get("Body", ""), "anonymous": False,
            "callback": params.get("From", ""),
            "idempotency_key": f"sms:{params['MessageSid']}" if params.get("MessageSid") else ""}


def twiml_message(text: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
            f"{escape(text)}</Message></Response>")
