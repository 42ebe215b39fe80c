"""How the CLI shows things: JSON lines, tables, progress; the one place that prints.

Text that came from a user or the evidence (case titles, file names, notes) is never
read as Rich markup: ``[c]onfirm`` stays ``[c]onfirm``. Only this module styles output,
and it does so with ``Text`` objects or markup it wrote itself around escaped values.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

# Written to a file or a pipe, a line is never cut: digests and paths are records for court.
# (Rich would otherwise squeeze a table into 80 columns and elide cells with "…".)
UNLIMITED = 100_000


def _console(name: str) -> Console:
    """``err_console`` or ``out_console``, made on first use: Rich is imported when a command
    first prints through it, not to start every command (`cvis hash` writes JSON lines)."""
    found = globals().get(name)
    if found is None:
        from rich.console import Console

        stderr = name == "err_console"
        tty = (sys.stderr if stderr else sys.stdout).isatty()
        found = globals()[name] = Console(stderr=stderr, width=None if tty else UNLIMITED)
    return found


def _err() -> Console:
    return _console("err_console")


def _out() -> Console:
    return _console("out_console")


def __getattr__(name: str) -> Any:
    if name in ("err_console", "out_console"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def show_progress(quiet: bool) -> bool:
    """Bars only for a person at a terminal."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(label: str, total: int | None, enabled: bool) -> Iterator[Any]:
    """Yields advance(n); a no-op when disabled."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.speed:.0f}/s" if total else ""),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=_err(), transient=False) as progress:
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
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from cvis.identify.scan import ScanProgress

    class Bar(_ScanBar, ScanProgress):
        pass

    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[items]}"),
        TextColumn("{task.fields[rate]}"), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=_err(), transient=False) as progress:
        yield Bar(progress)


@contextmanager
def file_progress(label: str, size: int, enabled: bool) -> Iterator[Any]:
    """Yields update(records, bytes_read, finishing): a bar over the file's bytes (they drive
    the ETA) with records and records/s, for lists whose record count is not known ahead;
    ``finishing`` relabels it while indexes are rebuilt and the import commits."""
    if not enabled:
        yield lambda records, position, finishing: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[records]}"),
        TextColumn("{task.fields[rate]}"), DownloadColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=_err(), transient=False) as progress:
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
def bytes_writer(stream: TextIO) -> Iterator[Callable[[bytes | memoryview], object]]:
    """Write JSON lines already encoded (``cvis lookup``'s fast path) to a text stream: as
    bytes to its buffer where it has one; flushed at the end."""
    stream.flush()
    raw = getattr(stream, "buffer", None)
    if raw is not None:
        yield raw.write
        raw.flush()
    else:
        yield lambda chunk: stream.write(bytes(chunk).decode("utf-8"))
        stream.flush()


def check_out(path: Path | None) -> None:
    """An output file's folder must exist: said in one line before any work (exit 2)."""
    if path is not None and not path.parent.is_dir():
        import typer

        error(f"cannot write {path}: the folder {path.parent} does not exist")
        raise typer.Exit(2)


@contextmanager
def output_stream(path: Path | None) -> Iterator[TextIO]:
    """A file when given (written whole, then renamed into place), else stdout."""
    if path is None:
        yield sys.stdout
        return
    check_out(path)
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as stream:
        yield stream
    tmp.replace(path)


def error(message: str) -> None:
    """One line on stderr; the message is plain text, whatever brackets it holds."""
    from rich.text import Text

    _err().print(Text.assemble(("error:", "bold red"), " ", message), highlight=False,
                      soft_wrap=True)


def note(message: str) -> None:
    """A line for the person at the terminal (stderr); plain text, never markup."""
    _err().print(message, markup=False, highlight=False, soft_wrap=True)


def table(title: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """A table on stdout; cells fold rather than being cut short, and are never markup."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    t = Table(title=escape(title))
    for column in columns:
        t.add_column(escape(column), overflow="fold")
    for row in rows:
        t.add_row(*(Text("" if v is None else str(v)) for v in row))
    _out().print(t)


def plain(value: Any) -> Any:
    """A dataclass (or a list, dict, date) as JSON-ready data for `--json` output."""
    from dataclasses import asdict, is_dataclass
    from datetime import date

    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def review_summary(case: str, seen: int, total: int, done: Any) -> None:
    """What the examiner did in an interactive review, said when they leave it."""
    parts = [f"{n} {what}" for what, n in sorted(done.items()) if n]
    note(f"case {case}: reviewed {seen} of {total} item(s)"
         + (f"; {', '.join(parts)}" if parts else "; no decisions"))


def scan_summary(summary: Any, jsonl: Path | None) -> None:
    """The examiner's first look at a finished scan."""
    note(
        f"case {summary.case}, scan {summary.scan_id}: {summary.items} items, "
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
    from rich.text import Text

    colour = "green" if result.unchanged else "bold red"
    line = Text.assemble(f"evidence {result.evidence_id} {result.source_path}: ",
                         (result.reason, colour))
    if result.recorded_sha256 or result.current_sha256:
        line.append(f" (recorded {result.recorded_sha256}, now {result.current_sha256})")
    for change in [*getattr(result, "changes", []), *getattr(result, "notes", [])]:
        line.append(f"\n  {change}")
    _err().print(line, highlight=False, soft_wrap=True)
def secret(label: str, value: str) -> None:
    """A value shown once (a token, a TOTP secret): to stdout so it can be captured."""
    _err().print(f"{label}:", highlight=False)
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
    from rich.text import Text

    _out().rule(Text(f"{position}/{total}  item {entry.item_id}"))
    _out().print(Text(entry.path, style="bold"), highlight=False)
    _out().print(f"md5 {entry.md5}  pdq {entry.pdq} (quality {entry.pdq_quality})",
                      markup=False, highlight=False)
    if entry.category is not None or entry.notes or entry.tags:
        _out().print(f"category {entry.category}  notes {entry.notes!r}  tags {entry.tags}",
                          markup=False, highlight=False)
    if entry.matches:
        table(
            "candidate matches",
            ["match", "set", "media", "signal", "distance", "category", "series",
             "identified", "verdict"],
            ([m.match_id, m.set, m.media_id, m.signal, m.distance, m.category, m.series,
              m.victim_identified, m.verdict or "pending"] for m in entry.matches),
        )
    for m in entry.matches:
        if m.video:
            _out().print(video_figures(m.match_id, m.video), markup=False, highlight=False)


def video_figures(match_id: int, video: dict[str, Any]) -> str:
    """A video match in a line: how much of each video agreed, and where (seconds)."""
    def spans(ranges: list[list[float]]) -> str:
        return ", ".join(f"{a:g}s" if a == b else f"{a:g}-{b:g}s" for a, b in ranges) or "-"
    common = video.get("common_frames_ignored") or 0
    return (f"match {match_id} (video): {video['query_match_percent']:g}% of the seized video "
            f"at {spans(video['query_ranges'])} matches {video['compared_match_percent']:g}% of "
            f"the known video at {spans(video['compared_ranges'])}"
            + (f"; {common} common known frame(s) not counted" if common else ""))


def notices(rows: list[dict[str, Any]]) -> None:
    table("deconfliction notices", ["other case", "agency", "contact", "basis", "shared"],
          ([n["other_case"], n["other_agency"], n["contact"], n["basis"], len(n["shared"])]
           for n in rows))


def case_detail(detail: Any) -> None:
    from rich.text import Text

    s = detail.summary
    _out().print(Text.assemble((f"case {s.number}", "bold"),
                                    f" {s.title} — {s.agency or 'no agency'}, "
                                    f"{s.status}, opened {s.created_at:%Y-%m-%d}"),
                      highlight=False)
    _out().print(f"examiners: {', '.join(detail.examiners)}; contact: {detail.contact}",
                      markup=False, highlight=False)
    table("scans", ["id", "status", "items", "matches", "errors", "started", "finished"],
          ([x["id"], x["status"], x["items"], x["matches"], x["errors"], x["started_at"],
            x["finished_at"]] for x in detail.scans))
    if detail.notices:
        notices(detail.notices)
    table("history", ["at", "who", "what", "detail"],
          ([e["at"], e["actor"], e["action"], json.dumps(e["detail"], default=str)]
           for e in detail.events))


# --- for commands that build their own Rich output (`cvis link`) ---------------------------

def rich(renderable: Any) -> None:
    """A Rich table, or a markup line whose quoted values the caller escaped, on stdout."""
    _out().print(renderable)


@contextmanager
def spinner(label: str, enabled: bool) -> Iterator[Any]:
    """A status line on stderr while work runs; yields its handle (``.update(text)``), or
    None when there is no one to see it."""
    if not enabled:
        yield None
        return
    with _err().status(label, spinner="dots") as status:
        yield status
