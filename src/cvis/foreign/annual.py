"""The annual report on foreign notices: counts per country, the share sent before
departure, decisions not to notify, errors and corrections, complaints (JSON and PDF)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cvis.audit import audited
from cvis.foreign.models import Complaint, Determination, Notice
from cvis.fusion.common import audit_actor, aware
from cvis.fusion.report import _table, bar_chart, write_pdf
from cvis.policy import Actor
from cvis.store.db import Store


def _in(year: int, when: datetime | None) -> bool:
    return when is not None and aware(when).year == year


def annual_figures(store: Store, year: int) -> dict[str, Any]:
    with store.session() as session:
        notices = [n for n in session.scalars(select(Notice)) if _in(year, n.drafted_at)]
        dets = [d for d in session.scalars(select(Determination)) if _in(year, d.decided_at)]
        complaints = [c for c in session.scalars(select(Complaint)) if _in(year, c.received_at)]
    sent = [n for n in notices if n.sent_at and n.kind != "correction"]
    timed = [n for n in sent if n.departure_at is not None]
    before = [n for n in timed if n.sent_at is not None and n.departure_at is not None
              and aware(n.sent_at) < aware(n.departure_at)]
    answered = [c for c in complaints if c.decided_at is not None]
    return {
        "year": year,
        "notices": len([n for n in notices if n.kind != "correction"]),
        "notices_by_kind": dict(Counter(n.kind for n in notices)),
        "sent_by_country": dict(Counter(n.country for n in sent)),
        "sent_before_departure": len(before),
        "share_sent_before_departure": round(len(before) / len(timed), 4) if timed else None,
        "received": sum(1 for n in notices if n.received_at),
        "answered": sum(1 for n in notices if n.answered_at),
        "determinations": len(dets),
        "decisions_not_to_notify": sum(1 for d in dets if d.covered and not d.notify),
        "errors_found": sum(1 for n in notices if n.status == "corrected"),
        "corrections_sent": sum(1 for n in notices if n.kind == "correction" and n.sent_at),
        "complaints": {
            "received": len(complaints),
            "upheld": sum(1 for c in complaints if c.status == "upheld"),
            "dismissed": sum(1 for c in complaints if c.status == "dismissed"),
            "open": sum(1 for c in complaints if c.status == "open"),
            "answered_in_time": sum(1 for c in answered if c.decided_at is not None
                                    and aware(c.decided_at) <= aware(c.due_at)),
            "letters_written": sum(1 for c in complaints if c.letter),
        },
    }


def annual_json(store: Store, actor: Actor, year: int) -> dict[str, Any]:
    """The figures alone (audited like the report), for the JSON download."""
    with audited(store, "foreign", "report.annual", f"year:{year} json",
                 actor=audit_actor(actor), purpose=actor.purpose):
        figures = annual_figures(store, year)
    figures["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return figures


def annual_report(store: Store, actor: Actor, year: int, out: Path) -> dict[str, Any]:
    """Write ``foreign-YEAR.json`` and ``foreign-YEAR.pdf`` in `out`; returns the figures."""
    with audited(store, "foreign", "report.annual", f"year:{year}", actor=audit_actor(actor),
                 purpose=actor.purpose):
        figures = annual_figures(store, year)
    out.mkdir(parents=True, exist_ok=True)
    figures["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    (out / f"foreign-{year}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    c = figures["complaints"]
    rows = [["what", "count"]] + [[k, figures[k]] for k in (
        "notices", "sent_before_departure", "share_sent_before_departure", "received",
        "answered", "decisions_not_to_notify", "errors_found", "corrections_sent")] + [
        [f"complaints {k}", v] for k, v in c.items()]
    write_pdf(out / f"foreign-{year}.pdf", f"Notices to foreign governments, {year}",
              "Every notice and response, decisions not to notify, errors and corrections, "
              "and complaints (34 U.S.C. 21503).", [
                  ("Figures", [_table(rows)]),
                  ("Notices sent per country", [bar_chart("sent", figures["sent_by_country"])]),
                  ("Complaints", [bar_chart("complaints", {k: v for k, v in c.items()})]),
              ])
    return figures
