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
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

err_console = Console(stderr=True)
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


def secret(label: str, value: str) -> None:
    """A value shown once (a token, a TOTP secret): to stdout so it can be captured."""
    err_console.print(f"{label}:", highlight=False)
    sys.stdout.write(value + "\n")
    sys.stdout.flush()


def stdout() -> TextIO:
    return sys.stdout
