"""The deadline scheduler: polls the due-table and mails reminders and escalations.

``cvis serve`` runs one scheduler beside the web workers (``background`` below); an app
served some other way starts it in its lifespan unless ``CVIS_TIP_SCHEDULER=0``.

Why a polled due-table rather than APScheduler's SQLAlchemy job store: the deadlines
are written in the same transaction as the lead (a tip is never accepted without its
deadlines), the same SQL runs on SQLite and PostgreSQL, nothing is pickled (the job
store pickles its jobs), and any number of scheduler processes may run: each row is
claimed by a conditional UPDATE before its mail goes. A restart resumes from the table.
"""

from __future__ import annotations

import logging
import os
import smtplib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from cvis.store.db import Store
from cvis.tips.deadlines import Notice, run_due
from cvis.tips.models import Lead
from cvis.tips.routing import national_desk, office_email

Clock = Callable[[], datetime]
SCHEDULER_ENV = "CVIS_TIP_SCHEDULER"  # "0": this process runs no deadline scheduler
INTERVAL_ENV = "CVIS_TIP_SCHEDULER_SECONDS"
THREAD_NAME = "cvis-tip-deadlines"
log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class MailSettings:
    """Where notices go: the SMTP relay, the sender, the duty supervisor's address."""

    host: str = "localhost"
    port: int = 25
    sender: str = "cvis-tips@localhost"
    duty_supervisor: str = ""

    @classmethod
    def from_env(cls) -> MailSettings:
        return cls(os.environ.get("CVIS_SMTP_HOST", "localhost"),
                   int(os.environ.get("CVIS_SMTP_PORT", "25")),
                   os.environ.get("CVIS_SMTP_FROM", "cvis-tips@localhost"),
                   os.environ.get("CVIS_DUTY_SUPERVISOR", ""))


def smtp_sender(mail: MailSettings) -> Callable[[Notice], None]:
    def send(notice: Notice) -> None:
        if not notice.to:
            return  # no address known: the lead's history and the overdue queue still say it
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = mail.sender, notice.to, notice.subject
        message.set_content(notice.body)
        with smtplib.SMTP(mail.host, mail.port, timeout=30) as smtp:
            smtp.send_message(message)

    return send


def recipients(mail: MailSettings) -> Callable[[Session, Lead, str], str]:
    """Reminders to the lead's office, escalations to the duty supervisor (else the desk)."""
    def recipient(session: Session, lead: Lead, kind: str) -> str:
        office = office_email(session, lead.office)
        if kind == "reminder":
            return office or mail.duty_supervisor
        return mail.duty_supervisor or office_email(session, national_desk(session)) or office

    return recipient


class DeadlineScheduler:
    """Polls every ``interval`` seconds until stopped; ``run_once`` is one poll."""

    def __init__(self, store: Store, mail: MailSettings, clock: Clock = system_clock,
                 interval: float = 30.0) -> None:
        self.store, self.mail, self.clock, self.interval = store, mail, clock, interval
        self._stop = threading.Event()
        self._send, self._recipient = smtp_sender(mail), recipients(mail)

    def run_once(self) -> list[Notice]:
        with self.store.session() as session:
            session.info["settings"] = self.store.settings
            return run_due(session, self.clock(), self._send, self._recipient)

    def run_forever(self, on_sent: Callable[[list[Notice]], None] = lambda _: None,
                    keep_going: bool = False) -> None:
        """Poll until stopped; with ``keep_going`` a failed poll (the database or the mail
        relay away) is logged and retried at the next poll: the rows wait in the table."""
        while not self._stop.is_set():
            try:
                on_sent(self.run_once())
            except Exception:
                if not keep_going:
                    raise
                log.exception("tip deadline poll failed; retrying in %s s", self.interval)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()


def enabled_here() -> bool:
    return os.environ.get(SCHEDULER_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@contextmanager
def background(store: Store, mail: MailSettings | None = None, clock: Clock = system_clock,
               interval: float | None = None) -> Iterator[DeadlineScheduler]:
    """The scheduler polling in a daemon thread for as long as the block runs (a server's
    life); stopped and joined when it ends."""
    every = interval if interval is not None else float(os.environ.get(INTERVAL_ENV, "30"))
    scheduler = DeadlineScheduler(store, mail or MailSettings.from_env(), clock, every)
    thread = threading.Thread(target=scheduler.run_forever, kwargs={"keep_going": True},
                              name=THREAD_NAME, daemon=True)
    thread.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
        thread.join(timeout=10)
