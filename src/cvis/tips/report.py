"""The weekly tip-line report, per office or national, as PDF (reportlab, with charts).

Counts only: volume by channel, tier and office, time to triage (to the first step a
person took) and to action, deadlines missed. No narratives, names or contacts: a
report travels further than the leads it counts. It covers only leads the reader may see.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import TIPS_READ
from cvis.policy import Actor
from cvis.tips.deadlines import aware
from cvis.tips.history import audit
from cvis.tips.leads import SYSTEM
from cvis.tips.models import Lead, LeadDeadline, LeadEvent, Tip
from cvis.tips.routing import national_desk
from cvis.tips.service import lead_resource
from cvis.tips.triage import TIERS

PERSON_STEPS = ("assigned", "accepted", "tier changed", "re-routed", "forwarded", "actioned",
                "closed")


def week_of(day: date | None) -> tuple[datetime, datetime]:
    """Monday 00:00 UTC to the next Monday; by default the last full week."""
    day = day or (datetime.now(UTC).date() - timedelta(days=7))
    start = datetime.combine(day - timedelta(days=day.weekday()), time(), UTC)
    return start, start + timedelta(days=7)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def weekly_summary(session: Session, actor: Actor, office: str | None,
                   day: date | None) -> dict[str, Any]:
    start, end = week_of(day)
    national = national_desk(session)
    tips = [t for t in session.scalars(select(Tip).where(Tip.received_at >= start,
                                                         Tip.received_at < end))]
    lead_ids = {t.lead_id for t in tips}
    leads = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(lead_ids)))
             if (office is None or lead.office == office)
             and policy.decide(actor, TIPS_READ, lead_resource(lead, national)).allowed}
    tips = [t for t in tips if t.lead_id in leads]
    triage, action = [], []
    for lead in leads.values():
        first = session.scalar(select(LeadEvent.at).where(
            LeadEvent.lead_id == lead.id, LeadEvent.actor != SYSTEM,
            LeadEvent.step.in_(PERSON_STEPS)).order_by(LeadEvent.at).limit(1))
        if first is not None:
            triage.append(_hours(aware(first) - aware(lead.created_at)))
        if lead.actioned_at is not None:
            action.append(_hours(aware(lead.actioned_at) - aware(lead.created_at)))
    missed = session.scalars(select(LeadDeadline).where(
        LeadDeadline.escalated_at >= start, LeadDeadline.escalated_at < end,
        LeadDeadline.lead_id.in_(list(leads)))).all()
    days = Counter((aware(t.received_at).date() - start.date()).days for t in tips)
    return {
        "office": office or "national", "week_start": start.date().isoformat(),
        "week_end": (end.date() - timedelta(days=1)).isoformat(),
        "tips": len(tips), "leads": len(leads),
        "by_channel": dict(sorted(Counter(t.channel for t in tips).items())),
        "by_tier": {t: n for t in TIERS
                    if (n := sum(1 for lead in leads.values() if lead.tier == t))},
        "by_office": dict(sorted(Counter(lead.office or "-" for lead in leads.values()).items())),
        "per_day": [days.get(i, 0) for i in range(7)],
        "median_hours_to_triage": median(triage) if triage else None,
        "median_hours_to_action": median(action) if action else None,
        "deadlines_missed": len(missed),
    }


def _chart(values: list[int], labels: list[str]) -> Drawing:
    drawing = Drawing(420, 160)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 25, 360, 120
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = labels or ["-"]
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    return drawing


def render_pdf(summary: dict[str, Any], out: Path) -> None:
    styles = getSampleStyleSheet()

    def para(text: str, style: str = "Normal") -> Paragraph:
        return Paragraph(escape(text), styles[style])

    def table(title: str, counts: dict[str, int]) -> list[Any]:
        rows = [[escape(k), str(v)] for k, v in counts.items()] or [["-", "0"]]
        return [para(title, "Heading3"), Table(rows, hAlign="LEFT"), Spacer(1, 6)]

    flow: list[Any] = [
        para(f"Tip line weekly report: {summary['office']}", "Title"),
        para(f"Week {summary['week_start']} to {summary['week_end']} (UTC). "
             f"{summary['tips']} tips in {summary['leads']} leads."),
        para(f"Median hours to triage: {summary['median_hours_to_triage']}; to action: "
             f"{summary['median_hours_to_action']}. Deadlines missed (escalated): "
             f"{summary['deadlines_missed']}."),
        para("Tips per day", "Heading3"),
        _chart(summary["per_day"], ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        para("Leads by tier", "Heading3"),
        _chart(list(summary["by_tier"].values()), list(summary["by_tier"])),
    ]
    flow += table("Tips by channel", summary["by_channel"])
    flow += table("Leads by office", summary["by_office"])
    SimpleDocTemplate(str(out), pagesize=A4, title="cvis tip line weekly report").build(flow)


def write_weekly(session: Session, actor: Actor, out: Path, *, office: str | None = None,
                 day: date | None = None) -> dict[str, Any]:
    summary = weekly_summary(session, actor, office, day)
    render_pdf(summary, out)
    audit(session, actor, "tips.report", f"office:{office or 'national'}",
          detail=f"week of {summary['week_start']}: {summary['tips']} tips -> {out}")
    return summary
