"""How the CLI shows things: JSON lines, tables, progress; the one place that prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)
# Piped output still gets readable tables rather than 80 squeezed columns.
out_console = Console(width=None if sys.stdout.isatty() else 140)


def show_progress(quiet: bool) -> bool:
    """Bars only for a person at a terminal."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(label: str, total: int | None, enabled: bool) -> Iterator[Any]:
    """Yields advance(n); a no-op when disabled."""
    if not enabled:
        yield lambda n=1: None
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.speed:.0f}/s" if total else ""),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n=1: progress.advance(task, n)


class _ScanBar:
    """Items and bytes as a bar with items/s, MB/s and ETA (bytes drive the ETA)."""

    def __init__(self, progress: Progress) -> None:
        self._progress, self._items = progress, 0
        self._task = progress.add_task("scanning", total=None, items="0", rate="")

    def start(self, items: int, size: int) -> None:
        self._total_items = items
        self._progress.update(self._task, total=size or None)

    def advance(self, items: int, size: int) -> None:
        self._items += items
        elapsed = self._progress.tasks[0].elapsed or 0.0
        rate = f"{self._items / elapsed:.0f} items/s" if elapsed > 0 else ""
        total = getattr(self, "_total_items", 0)
        self._progress.update(self._task, advance=size, items=f"{self._items}/{total}", rate=rate)


@contextmanager
def scan_progress(enabled: bool) -> Iterator[Any]:
    """A ScanProgress for the terminal, or None when there is no one to see it."""
    if not enabled:
        yield None
        return
    from cvis.identify.scan import ScanProgress

    class Bar(_ScanBar, ScanProgress):
        pass

    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[items]}"),
        TextColumn("{task.fields[rate]}"), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err_console, transient=False) as progress:
        yield Bar(progress)


@contextmanager
def file_progress(label: str, size: int, enabled: bool) -> Iterator[Any]:
    """Yields update(records, bytes_read, finishing): a bar over the file's bytes (they drive
    the ETA) with records and records/s, for lists whose record count is not known ahead;
    ``finishing`` relabels it while indexes are rebuilt and the import commits."""
    if not enabled:
        yield lambda records, position, finishing: None
        return
    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[records]}"),
        TextColumn("{task.fields[rate]}"), DownloadColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task(label, total=size or None, records="0 records", rate="")

        def update(records: int, position: int, finishing: bool) -> None:
            if finishing:
                progress.update(task, description=f"{label}: indexing and committing")
                return
            elapsed = progress.tasks[0].elapsed or 0.0
            rate = f"{records / elapsed:,.0f} records/s" if elapsed > 0 else ""
            progress.update(task, completed=position, records=f"{records:,} records", rate=rate)

        yield update


def write_jsonl(rows: Iterable[dict[str, Any]], stream: TextIO) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


@contextmanager
def output_stream(path: Path | None) -> Iterator[TextIO]:
    """A file when given (written whole, then renamed into place), else stdout."""
    if path is None:
        yield sys.stdout
        return
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as stream:
        yield stream
    tmp.replace(path)


def error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)


def note(message: str) -> None:
    err_console.print(message, highlight=False)


def table(title: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    t = Table(title=title)
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    out_console.print(t)


def scan_summary(summary: Any, jsonl: Path | None) -> None:
    """The examiner's first look at a finished scan."""
    note(
        f"[bold]case {summary.case}[/], scan {summary.scan_id}: {summary.items} items, "
        f"{summary.matched_items} matched, {summary.identified_victim_items} showing "
        f"identified victims, {sum(summary.errors_by_reason.values())} errors"
    )
    if summary.matches_by_set:
        note("matches by set: " + ", ".join(f"{k} {v}" for k, v in summary.matches_by_set.items()))
    if summary.matches_by_category:
        note(
            "matched items by category: "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.matches_by_category.items()))
        )
    if summary.errors_by_reason:
        note("errors: " + ", ".join(f"{k} {v}" for k, v in summary.errors_by_reason.items()))
    if getattr(summary, "flags_by_reason", None):
        note("flags: " + ", ".join(f"{k} {v}" for k, v in summary.flags_by_reason.items()))
    if jsonl is not None:
        note(f"results: {jsonl}")


def demo_matches(rows: Iterable[dict[str, Any]]) -> None:
    """A table of matched items: what an examiner looks at first."""

    def describe(row: dict[str, Any]) -> list[Any]:
        best = row["matches"][0]
        return [
            Path(row["path"]).name, best["set"], best["media_id"], best["signal"],
            best["distance"], best["category"], best["series"],
            "yes" if best["victim_identified"] else "no",
        ]

    table(
        "matched items (nearest match each)",
        ["file", "set", "media", "signal", "distance", "category", "series", "identified"],
        (describe(r) for r in rows if r["matches"]),
    )


def verification(result: Any) -> None:
    """One evidence item re-hashed: the court's question answered in a line."""
    colour = "green" if result.unchanged else "bold red"
    note(f"evidence {result.evidence_id} {result.source_path}: [{colour}]{result.reason}[/]"
         f" (recorded {result.recorded_sha256}, now {result.current_sha256})")
def secret(label: str, value: str) -> None:
    """A value shown once (a token, a TOTP secret): to stdout so it can be captured."""
    err_console.print(f"{label}:", highlight=False)
    sys.stdout.write(value + "\n")
    sys.stdout.flush()


def stdout() -> TextIO:
    return sys.stdout


def review_entry_dict(entry: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(entry)
    for match in data["matches"]:
        if match["reviewed_at"] is not None:
            match["reviewed_at"] = match["reviewed_at"].isoformat()
    return data


def review_entry(entry: Any, position: int, total: int) -> None:
    """One item's evidence: what the examiner needs to decide, and no imagery."""
    out_console.rule(f"{position}/{total}  item {entry.item_id}")
    out_console.print(f"[bold]{entry.path}[/]", highlight=False)
    out_console.print(f"md5 {entry.md5}  pdq {entry.pdq} (quality {entry.pdq_quality})",
                      highlight=False)
    if entry.category is not None or entry.notes or entry.tags:
        out_console.print(f"category {entry.category}  notes {entry.notes!r}  tags {entry.tags}")
    if entry.matches:
        table(
            "candidate matches",
            ["match", "set", "media", "signal", "distance", "category", "series",
             "identified", "verdict"],
            ([m.match_id, m.set, m.media_id, m.signal, m.distance, m.category, m.series,
              m.victim_identified, m.verdict or "pending"] for m in entry.matches),
        )


def notices(rows: list[dict[str, Any]]) -> None:
    table("deconfliction notices", ["other case", "agency", "contact", "basis", "shared"],
          ([n["other_case"], n["other_agency"], n["contact"], n["basis"], len(n["shared"])]
           for n in rows))


def case_detail(detail: Any) -> None:
    s = detail.summary
    out_console.print(f"[bold]case {s.number}[/] {s.title} — {s.agency or 'no agency'}, "
                      f"{s.status}, opened {s.created_at:%Y-%m-%d}", highlight=False)
    out_console.print(f"examiners: {', '.join(detail.examiners)}; contact: {detail.contact}",
                      highlight=False)
    table("scans", ["id", "status", "items", "matches", "errors", "started", "finished"],
          ([x["id"], x["status"], x["items"], x["matches"], x["errors"], x["started_at"],
            x["finished_at"]] for x in detail.scans))
    if detail.notices:
        notices(detail.notices)
    table("history", ["at", "who", "what", "detail"],
          ([e["at"], e["actor"], e["action"], json.dumps(e["detail"], default=str)]
           for e in detail.events))
