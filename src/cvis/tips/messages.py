"""Two-way messages with an anonymous tipster, who holds only a receipt and a passphrase.

Investigators ask through the lead; the tipster reads and answers with the receipt and
passphrase (as GlobaLeaks and P3 do). A wrong receipt and a wrong passphrase get the
same answer, and attempts per receipt are rate-limited, so neither can be probed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.accounts.roles import TIPS_WRITE
from cvis.policy import Actor
from cvis.tips.history import audit, event, who
from cvis.tips.intake import PASSPHRASES, RateLimiter
from cvis.tips.models import Lead, Tip, TipMessage
from cvis.tips.service import message_rows, tip_lead
from cvis.tips.validate import TipRejected, clean_text

MAX_MESSAGE = 5000
NOT_RECOGNISED = "receipt or passphrase not recognised"
ATTEMPTS = RateLimiter(limit=10, window=900.0)
_DUMMY = PASSPHRASES.hash("not-a-passphrase")  # equal work when the receipt is unknown


def ask_tipster(session: Session, actor: Actor, tip_id: int, text: str,
                now: datetime | None = None) -> dict[str, Any]:
    """An investigator's question to the tipster of an anonymous tip."""
    tip = tip_lead(session, actor, tip_id, TIPS_WRITE)
    if not tip.passphrase_hash:
        raise TipRejected(f"tip {tip_id} was not anonymous: contact the tipster directly")
    body = clean_text(text, "message", MAX_MESSAGE)
    if not body:
        raise TipRejected("the message is empty")
    now = now or datetime.now(UTC)
    session.add(TipMessage(tip_id=tip.id, at=now, direction="to_tipster", author=who(actor),
                           body=body))
    event(session, session.get_one(Lead, tip.lead_id), who(actor), "asked tipster",
          f"tip {tip.id}", at=now)
    audit(session, actor, "tip.ask", f"tip:{tip.id}")
    return {"tip_id": tip.id, "messages": message_rows(session, tip.id)}


def _tipster_tip(session: Session, receipt: str, passphrase: str) -> Tip:
    receipt = clean_text(receipt, "receipt", 40).upper()
    ATTEMPTS.check("receipt:" + receipt)
    tip = session.scalar(select(Tip).where(Tip.receipt == receipt))
    stored = tip.passphrase_hash if tip is not None and tip.passphrase_hash else _DUMMY
    try:
        PASSPHRASES.verify(stored, clean_text(passphrase, "passphrase", 100).lower())
    except (VerificationError, InvalidHashError):
        tip = None
    if tip is None or stored is _DUMMY:
        audit(session, None, "tipster.read", "", outcome="failure", detail=NOT_RECOGNISED)
        raise TipRejected(NOT_RECOGNISED)
    return tip


def tipster_messages(session: Session, receipt: str, passphrase: str) -> dict[str, Any]:
    """What the tipster sees: their receipt and the conversation (never the lead)."""
    tip = _tipster_tip(session, receipt, passphrase)
    audit(session, None, "tipster.read", f"tip:{tip.id}")
    return _conversation(session, tip)


def _conversation(session: Session, tip: Tip) -> dict[str, Any]:
    session.flush()
    return {"receipt": tip.receipt, "messages": [
        {k: v for k, v in m.items() if k != "author"} for m in message_rows(session, tip.id)]}


def tipster_reply(session: Session, receipt: str, passphrase: str, text: str,
                  now: datetime | None = None) -> dict[str, Any]:
    """The tipster answers; the lead's history says so, its office sees the answer."""
    tip = _tipster_tip(session, receipt, passphrase)
    body = clean_text(text, "message", MAX_MESSAGE)
    if not body:
        raise TipRejected("the message is empty")
    now = now or datetime.now(UTC)
    session.add(TipMessage(tip_id=tip.id, at=now, direction="from_tipster", author="tipster",
                           body=body))
    event(session, session.get_one(Lead, tip.lead_id), "tipster", "tipster answered",
          f"tip {tip.id}", at=now)
    audit(session, None, "tipster.reply", f"tip:{tip.id}")
    return _conversation(session, tip)
