"""PDF reports with plots (reportlab's own charts: no extra plotting dependency)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table


def bar_chart(title: str, counts: Mapping[str, int | float]) -> Drawing:
    """A labelled bar chart of one count per category."""
    drawing = Drawing(440, 200)
    drawing.add(String(0, 185, title, fontSize=10))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, 380, 140
    labels = list(counts) or ["none"]
    chart.data = [[float(counts[k]) for k in counts] or [0.0]]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = None  # reportlab's default palette
    drawing.add(chart)
    return drawing


def _table(rows: Sequence[Sequence[Any]]) -> Table:
    table = Table([[str(c) for c in row] for row in rows], hAlign="LEFT")
    table.setStyle([("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.25, "grey")])
    return table


def write_pdf(path: Path, title: str, intro: str, sections: list[tuple[str, list[Flowable]]]
              ) -> Path:
    styles = getSampleStyleSheet()
    story: list[Flowable] = [Paragraph(title, styles["Title"]), Paragraph(intro, styles["Normal"]),
                             Spacer(1, 12)]
    for heading, flowables in sections:
        story += [Paragraph(heading, styles["Heading2"]), *flowables, Spacer(1, 10)]
    SimpleDocTemplate(str(path), pagesize=A4, title=title).build(story)
    return path


def month_pdf(summary: dict[str, Any], targets: Sequence[Any], path: Path) -> Path:
    """The month: counts, link changes, targets by tier, outcomes, the top of the list."""
    top = [["rank", "subject", "tier", "score", "office", "factors"]] + [
        [t.rank, t.subject_id, t.tier, t.score, t.office or "-",
         ", ".join(f"{f['name']} {f['points']}" for f in t.factors)] for t in targets[:25]]
    counts = [["what", "count"]] + [[k, summary[k]] for k in
                                    ("subjects", "facts", "links", "targets", "merges_open",
                                     "detainers_drafted")]
    return write_pdf(path, f"Monthly protocol {summary['period']}",
                     "Candidates for a person to review: no action has been taken on any "
                     f"score. Weights version {summary['weights_version']}.", [
                         ("Counts", [_table(counts)]),
                         ("Links: new, changed, ended",
                          [bar_chart("links by change", summary["link_changes"])]),
                         ("Targets by tier",
                          [bar_chart("targets", summary["targets_by_tier"])]),
                         ("Outcomes recorded", [bar_chart("outcomes", summary["outcomes"])]),
                         ("Since the previous month", [_table([
                             ["previous month", summary.get("previous_period") or "none"],
                             ["new targets", len(summary.get("targets_new", []))],
                             ["dropped targets", len(summary.get("targets_dropped", []))],
                             ["tier changes", len(summary.get("tier_changes", {}))]])]),
                         ("Top targets", [_table(top)]),
                     ])
