"""Alerts: area and poster subscriptions, email through a real SMTP server on loopback, web
push to a local push service (decrypted here), one-click unsubscribe."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from cvis.portal import service
from cvis.portal.app import create_public_app
from cvis.portal.settings import PortalSettings, RateLimits
from tests.test_portal import operator, poster_json


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(
            message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


class PushService(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 201

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def push_service() -> Iterator[tuple[type[PushService], int]]:
    handler = type("Push", (PushService,), {"received": [], "status": 201})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, server.server_address[1]
    server.shutdown()
    server.server_close()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def browser_keys() -> tuple[ec.EllipticCurvePrivateKey, bytes, dict[str, str]]:
    """What a browser's PushManager makes: an ECDH P-256 pair and an auth secret."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    auth = os.urandom(16)
    return private, auth, {"p256dh": b64(public), "auth": b64(auth)}


@pytest.fixture
def alert_settings(settings, smtp) -> PortalSettings:
    return PortalSettings(store=settings, public_url="http://portal.test", cache_seconds=0.0,
                          smtp_host="127.0.0.1", smtp_port=smtp[1],
                          smtp_from="alerts@portal.test",
                          limits=RateLimits(writes_burst=20))


def test_email_alerts_reach_subscribers_near_the_poster_and_unsubscribe_in_one_click(
        store, alert_settings, smtp, tmp_path):
    box, _port = smtp
    with TestClient(create_public_app(alert_settings)) as client:
        near = client.post("/alerts", data={"email": "near@example.org", "zip": "12203",
                                            "radius": "10", "lang": "es"})
        far = client.post("/alerts", data={"email": "far@example.org", "zip": "90210",
                                           "radius": "25"})
        bad = client.post("/alerts", data={"email": "not-an-address", "zip": "12203"})
        assert (near.status_code, far.status_code, bad.status_code) == (201, 201, 400)
        asking = {m["To"]: m for m in box.messages}  # double opt-in: one message each, a link
        assert set(asking) == {"near@example.org", "far@example.org"}
        unconfirmed = service.publish(store, alert_settings, operator(),
                                      poster_json(tmp_path / "before"))
        assert unconfirmed.delivered == 0 and len(box.messages) == 2  # nothing until confirmed
        confirm = confirmation_path(asking["near@example.org"])
        assert client.get(confirm).status_code == 200  # a button: a mail scanner changes nothing
        assert client.post(confirm).status_code == 200
        box.messages.clear()
        first = service.publish(store, alert_settings, operator(), poster_json(tmp_path))
        assert first.delivered == 1
        (mail,) = box.messages
        assert mail["To"] == "near@example.org" and "Jordan Example" in mail["Subject"]
        assert mail["Subject"].startswith("Se busca cerca de usted")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = "".join(str(mail["List-Unsubscribe"]).split()).strip("<>")
        body = mail.get_payload(decode=True).decode()
        assert f"/posters/{first.poster_id}" in body and link in body
        path = link.removeprefix("http://portal.test")
        assert client.get(path).status_code == 200  # a page with a button: GET changes nothing
        service.captured(store, alert_settings, operator(), first.poster_id)
        assert len(box.messages) == 2 and box.messages[1]["Subject"].startswith("Capturado")
        assert client.post(path).status_code == 200  # the one click
        assert client.post(path).status_code == 404
        service.withdraw(store, alert_settings, operator(), first.poster_id, "closed")
        assert len(box.messages) == 2


def confirmation_path(mail: Message) -> str:
    """The confirmation link a double opt-in message carries, as a path on the portal."""
    body = mail.get_payload(decode=True).decode()
    link = next(w for w in body.split() if "/alerts/confirm/" in w)
    return link.removeprefix("http://portal.test")


def test_unconfirmed_email_subscriptions_get_nothing_and_expire(store, alert_settings, smtp,
                                                                tmp_path):
    from datetime import timedelta

    from sqlalchemy import select

    from cvis.portal import alerts
    from cvis.portal.models import PublicSubscription

    box, _port = smtp
    with TestClient(create_public_app(alert_settings)) as client:
        assert client.post("/alerts", data={"email": "late@example.org", "zip": "12203",
                                            "radius": "10"}).status_code == 201
        (asking,) = box.messages
        assert "/unsubscribe/" in asking.get_payload(decode=True).decode()
        with store.session() as session:  # two days and more pass without a confirmation
            for sub in session.scalars(select(PublicSubscription)):
                sub.created_at -= timedelta(hours=49)
        assert client.post(confirmation_path(asking)).status_code == 404
        assert client.post("/alerts/confirm/not-a-token").status_code == 404
    published = service.publish(store, alert_settings, operator(), poster_json(tmp_path))
    assert published.delivered == 0 and len(box.messages) == 1
    with store.session() as session:
        assert session.scalars(select(PublicSubscription)).all() == []  # expired: forgotten
        alerts.expire_unconfirmed(session)


def test_poster_subscribers_hear_of_its_withdrawal(store, alert_settings, smtp, tmp_path):
    box, _port = smtp
    first = service.publish(store, alert_settings, operator(),
                            poster_json(tmp_path, areas=[{"zip": "33101", "radius_miles": 5}]))
    with TestClient(create_public_app(alert_settings)) as client:
        answer = client.post("/api/v1/subscriptions", json={
            "channel": "email", "email": "fan@example.org", "poster": first.poster_id})
        assert answer.status_code == 201 and "/unsubscribe/" in answer.json()["unsubscribe"]
        assert client.post("/api/v1/subscriptions", json={
            "channel": "email", "email": "x@example.org", "poster": "p-none"}).status_code == 400
        assert client.post(confirmation_path(box.messages.pop())).status_code == 200
    service.withdraw(store, alert_settings, operator(), first.poster_id, "duplicate poster")
    (mail,) = box.messages
    assert mail["To"] == "fan@example.org"
    assert "duplicate poster" in mail.get_payload(decode=True).decode()


def test_web_push_is_encrypted_for_the_browser_and_signed_with_our_vapid_key(
        store, settings, push_service, tmp_path):
    handler, port = push_service
    portal_settings = PortalSettings(store=settings, public_url="http://portal.test",
                                     cache_seconds=0.0, push_to_loopback=True)
    private, auth, keys = browser_keys()
    endpoint = f"http://127.0.0.1:{port}/push/device-1"
    with TestClient(create_public_app(portal_settings)) as client:
        vapid = client.get("/api/v1/vapid").json()["public_key"]
        assert client.get("/api/v1/vapid").json()["public_key"] == vapid  # stored, not remade
        answer = client.post("/api/v1/subscriptions", json={
            "channel": "push", "push": {"endpoint": endpoint, "keys": keys},
            "zip": "12203", "radius_miles": 10})
        assert answer.status_code == 201
        assert client.post("/api/v1/subscriptions", json={
            "channel": "push", "push": {"endpoint": "ftp://x", "keys": keys},
            "zip": "12203"}).status_code == 400
    published = service.publish(store, portal_settings, operator(), poster_json(tmp_path))
    assert published.delivered == 1
    (headers, body), = handler.received
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["content-encoding"] == "aes128gcm"
    assert f"k={vapid}" in lowered["authorization"].replace(" ", "")
    message = json.loads(http_ece.decrypt(body, private_key=private, auth_secret=auth,
                                          version="aes128gcm"))
    assert message["tag"] == published.poster_id and message["title"] == "Wanted near you"
    assert message["url"].startswith(f"/posters/{published.poster_id}")


def test_a_push_subscription_the_browser_dropped_is_forgotten(store, settings, push_service,
                                                              tmp_path):
    from sqlalchemy import select

    from cvis.portal import alerts
    from cvis.portal.models import PublicSubscription

    handler, port = push_service
    handler.status = 410
    portal_settings = PortalSettings(store=settings, public_url="http://portal.test")
    _private, _auth, keys = browser_keys()
    with store.session() as session:
        alerts.subscribe(session, channel="push", zip_code="12203", radius_miles=5,
                         push={"endpoint": f"http://127.0.0.1:{port}/p", "keys": keys},
                         allow_loopback=True)
    sent = service.publish(store, portal_settings, operator(), poster_json(tmp_path)).delivered
    assert sent == 0 and len(handler.received) == 1
    with store.session() as session:
        assert session.scalars(select(PublicSubscription)).all() == []


def test_no_smtp_server_configured_leaves_email_pending(store, alert_settings, smtp, tmp_path):
    from cvis.portal import alerts

    box, _port = smtp
    unconfigured = replace(alert_settings, smtp_host="")
    with store.session() as session:
        token = alerts.subscribe(session, channel="email", email="a@example.org",
                                 zip_code="12203").confirm_token
    with store.session() as session:
        assert alerts.confirm(session, token)
    published = service.publish(store, unconfigured, operator(), poster_json(tmp_path))
    assert published.delivered == 0 and box.messages == []
    assert alerts.deliver(store, alert_settings, published.event_id) == 1
    assert alerts.deliver(store, alert_settings, published.event_id) == 0  # never twice
    assert [m["To"] for m in box.messages] == ["a@example.org"]


def test_push_endpoints_must_be_public_push_services(store):
    from cvis.portal import alerts

    _private, _auth, keys = browser_keys()
    with store.session() as session:
        for endpoint in ("http://127.0.0.1:9/p", "https://127.0.0.1/p", "https://10.0.0.8/p",
                         "https://localhost/p", "https://[::1]/p", "https://169.254.169.254/x",
                         "ftp://push.example.org/p", 7):
            with pytest.raises(alerts.SubscriptionInvalid):
                alerts.subscribe(session, channel="push", zip_code="12203",
                                 push={"endpoint": endpoint, "keys": keys})
        sub = alerts.subscribe(session, channel="push", zip_code="12203",
                               push={"endpoint": "https://fcm.googleapis.com/fcm/send/x",
                                     "keys": keys})
        assert sub.push["endpoint"].startswith("https://fcm.")
