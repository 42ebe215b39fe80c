"""Alerts: subscriptions to an area (ZIP + radius) or a poster, delivered by email or web push.

No tracking: a subscription holds only what delivery needs (an address or a push endpoint,
the area, the language) and a random token for the one-click unsubscribe link.

Email is double opt-in: subscribing sends one message with a confirmation link, and nothing
else is sent to that address until the link is followed; an unconfirmed subscription is
deleted after ``CONFIRM_HOURS``. Web push needs no such step (the browser's own permission
prompt is the person's consent, and only that browser can read the messages).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import secrets
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from cvis.portal.geo import miles, zip_point
from cvis.portal.i18n import LANGUAGES, gettext
from cvis.portal.models import (
    PublicDelivery,
    PublicEvent,
    PublicKey,
    PublicPoster,
    PublicSubscription,
)
from cvis.portal.settings import PortalSettings
from cvis.store.db import Store
from cvis.store.models import utcnow

CONFIRM_HOURS = 48
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MAX_RADIUS = 100.0


class SubscriptionInvalid(ValueError):
    pass


def vapid_key(session: Session) -> PublicKey:
    """The VAPID key pair for web push, generated on first use and kept in public_keys."""
    key = session.get(PublicKey, "vapid")
    if key is None:
        from py_vapid import Vapid

        vapid = Vapid()
        vapid.generate_keys()
        raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                            serialization.PublicFormat.UncompressedPoint)
        key = PublicKey(name="vapid", private_pem=vapid.private_pem().decode(),
                        public_key=base64.urlsafe_b64encode(raw).decode().rstrip("="))
        session.add(key)
        session.flush()
    return key


def _public_host(host: str) -> bool:
    """Not this machine nor a private network: push endpoints must not reach inside (SSRF)."""
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: the push services are public hosts
    return address.is_global


def _push_info(push: Any, allow_loopback: bool = False) -> dict[str, Any]:
    if not isinstance(push, dict):
        raise SubscriptionInvalid("a push subscription is {endpoint, keys: {p256dh, auth}}")
    endpoint, keys = push.get("endpoint"), push.get("keys") or {}
    where = urlsplit(endpoint) if isinstance(endpoint, str) else None
    ok = where is not None and (
        (where.scheme == "https" and _public_host(where.hostname or ""))
        or (allow_loopback and where.scheme == "http" and where.hostname == "127.0.0.1"))
    if not ok:
        raise SubscriptionInvalid("a push endpoint must be an https URL of a push service")
    if not isinstance(keys, dict) or not keys.get("p256dh") or not keys.get("auth"):
        raise SubscriptionInvalid("a push subscription needs keys p256dh and auth")
    return {"endpoint": endpoint, "keys": {"p256dh": str(keys["p256dh"]),
                                           "auth": str(keys["auth"])}}


def subscribe(session: Session, *, channel: str, email: str = "", push: Any = None,
              zip_code: str = "", radius_miles: float = 10.0, poster_id: str = "",
              language: str = "en", allow_loopback: bool = False) -> PublicSubscription:
    """One subscription to an area or to one poster; returns it with its unsubscribe token."""
    sub = PublicSubscription(token=secrets.token_urlsafe(24), channel=channel,
                             language=language if language in LANGUAGES else "en", push={})
    if channel == "email":
        if not EMAIL.match(email or "") or len(email) > 320:
            raise SubscriptionInvalid("that is not an email address")
        sub.email = email
        sub.confirm_token = secrets.token_urlsafe(24)
    elif channel == "push":
        sub.push = _push_info(push, allow_loopback)
        sub.confirmed_at = utcnow()
    else:
        raise SubscriptionInvalid("channel must be email or push")
    if poster_id:
        if session.scalar(select(PublicPoster.id).where(
                PublicPoster.poster_id == poster_id, PublicPoster.status != "withdrawn")) is None:
            raise SubscriptionInvalid("no such poster")
        sub.poster_id = poster_id
    else:
        point = zip_point(zip_code)
        if point is None:
            raise SubscriptionInvalid("give a five-digit US ZIP code or a poster")
        if not 0 < radius_miles <= MAX_RADIUS:
            raise SubscriptionInvalid(f"the radius is 1 to {MAX_RADIUS:.0f} miles")
        sub.zip, sub.radius_miles, (sub.lat, sub.lon) = zip_code, radius_miles, point
    session.add(sub)
    session.flush()
    return sub


def confirm(session: Session, token: str) -> bool:
    """The confirmation link was followed: alerts go to this address from now on."""
    if not token:
        return False
    sub = session.scalar(select(PublicSubscription).where(
        PublicSubscription.confirm_token == token))
    if sub is None or _expired(sub):
        return False
    if sub.confirmed_at is None:
        sub.confirmed_at = utcnow()
    return True


def _expired(sub: PublicSubscription) -> bool:
    created = sub.created_at if sub.created_at.tzinfo else sub.created_at.replace(
        tzinfo=utcnow().tzinfo)
    return sub.confirmed_at is None and utcnow() - created > timedelta(hours=CONFIRM_HOURS)


def expire_unconfirmed(session: Session) -> int:
    """Forget email subscriptions nobody confirmed within ``CONFIRM_HOURS``."""
    cutoff = utcnow() - timedelta(hours=CONFIRM_HOURS)
    stale = session.execute(delete(PublicSubscription).where(
        PublicSubscription.confirmed_at.is_(None), PublicSubscription.created_at < cutoff))
    return int(getattr(stale, "rowcount", 0) or 0)


def send_confirmation(settings: PortalSettings, sub: PublicSubscription) -> bool:
    """The one message an unconfirmed address gets: the link that confirms it."""
    if not settings.smtp_host or sub.channel != "email" or sub.confirmed_at is not None:
        return False
    _ = lambda text: gettext(sub.language, text)  # noqa: E731
    link = f"{settings.public_url}/alerts/confirm/{sub.confirm_token}?lang={sub.language}"
    leave = f"{settings.public_url}/unsubscribe/{sub.token}"
    message = EmailMessage()
    message["From"], message["To"] = settings.smtp_from, sub.email
    message["Subject"] = _("Confirm your alerts")
    message.set_content(
        f"{_('Someone asked for alerts at this address. To start them, open this link:')}"
        f"\n\n{link}\n\n"
        f"{_('If it was not you, do nothing: nothing more will be sent.')}\n\n"
        f"{_('Unsubscribe')}: {leave}\n")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        return False
    return True


def unsubscribe(session: Session, token: str) -> bool:
    """One click: the subscription and its delivery records are gone."""
    sub = session.scalar(select(PublicSubscription).where(PublicSubscription.token == token))
    if sub is None:
        return False
    session.execute(delete(PublicDelivery).where(PublicDelivery.subscription_id == sub.id))
    session.delete(sub)
    return True


def _near(sub: PublicSubscription, poster: PublicPoster) -> bool:
    if sub.lat is None or sub.lon is None:
        return False
    return any(miles((sub.lat, sub.lon), (a["lat"], a["lon"]))
               <= sub.radius_miles + float(a.get("radius_miles", 0)) for a in poster.areas)


def recipients(session: Session, event: PublicEvent) -> list[PublicSubscription]:
    """Subscribers to this poster, and to areas that overlap one of the poster's areas."""
    poster = session.scalar(select(PublicPoster).where(PublicPoster.poster_id == event.poster_id))
    if poster is None:
        return []
    done = select(PublicDelivery.subscription_id).where(PublicDelivery.event_id == event.id)
    candidates = session.scalars(select(PublicSubscription).where(
        or_(PublicSubscription.poster_id == poster.poster_id, PublicSubscription.zip != ""),
        PublicSubscription.confirmed_at.is_not(None), PublicSubscription.id.not_in(done)))
    return [s for s in candidates if s.poster_id == poster.poster_id or _near(s, poster)]


def _message(event: PublicEvent, language: str) -> tuple[str, str]:
    _ = lambda text: gettext(language, text)  # noqa: E731
    if event.msg_type == "Cancel":
        return _("Poster withdrawn"), f"{event.headline}: {event.note}"
    if event.status == "captured":
        return _("Captured"), event.headline
    if event.msg_type == "Update":
        return _("Poster updated"), event.headline
    return _("Wanted near you"), event.headline


def _send_email(settings: PortalSettings, sub: PublicSubscription, event: PublicEvent) -> str:
    if not settings.smtp_host:
        return ""
    subject, body = _message(event, sub.language)
    leave = f"{settings.public_url}/unsubscribe/{sub.token}"
    message = EmailMessage()
    message["From"], message["To"] = settings.smtp_from, sub.email
    message["Subject"] = f"{subject}: {event.headline}"
    message["List-Unsubscribe"] = f"<{leave}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    link = f"{settings.public_url}/posters/{event.poster_id}?lang={sub.language}"
    message.set_content(f"{body}\n\n{link}\n\n{gettext(sub.language, 'Unsubscribe')}: {leave}\n")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
    return "sent"


def _send_push(session: Session, settings: PortalSettings, sub: PublicSubscription,
               event: PublicEvent) -> str:
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    title, body = _message(event, sub.language)
    data = json.dumps({"title": title, "body": body, "tag": event.poster_id,
                       "url": f"/posters/{event.poster_id}?lang={sub.language}"})
    key = Vapid.from_pem(vapid_key(session).private_pem.encode())
    try:
        webpush(sub.push, data, vapid_private_key=key,
                vapid_claims={"sub": settings.vapid_subject}, timeout=10)
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", 0)
        if status in (404, 410):  # the browser dropped it: forget the subscription
            unsubscribe(session, sub.token)
            return "gone"
        return f"failed: {status or exc}"[:200]
    return "sent"


def deliver(store: Store, settings: PortalSettings, event_id: int) -> int:
    """Send one event to everyone it concerns, once each; returns how many were sent."""
    sent = 0
    with store.session() as session:
        event = session.get(PublicEvent, event_id)
        if event is None:
            return 0
        expire_unconfirmed(session)
        for sub in recipients(session, event):
            try:
                if sub.channel == "email":
                    outcome = _send_email(settings, sub, event)
                else:
                    outcome = _send_push(session, settings, sub, event)
            except (OSError, smtplib.SMTPException) as exc:
                outcome = f"failed: {exc}"[:200]
            if outcome in ("", "gone"):
                continue  # nothing to record: not configured, or the subscription is gone
            session.add(PublicDelivery(subscription_id=sub.id, event_id=event.id,
                                       outcome=outcome))
            sent += outcome == "sent"
    return sent
