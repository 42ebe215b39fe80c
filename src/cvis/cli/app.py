"""The `cvis` command: thin commands that parse, call one service, and render."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.core import Command
from typer._click.core import Context as ClickContext
from typer.core import TyperGroup, TyperOption

import cvis
from cvis.cli import lazy, render
from cvis.cli.errors import USAGE, fail
from cvis.cli.serve import SERVE_HELP, serve_command

if TYPE_CHECKING:
    from cvis.media.sources import Source

# Option defaults of `cvis scan`, here so that the help needs no hashing import (a test
# keeps them equal to cvis.identify.hashpool.DEFAULT_TIME_LIMIT, cvis.hashing's pixels).
DEFAULT_TIME_LIMIT = 120.0
DEFAULT_MAX_PIXELS = 200_000_000

_option_type = TyperOption.display_type_rich


def _flag_type(self: TyperOption, ctx: ClickContext) -> str | None:
    """A flag takes no value: no `<bool>` placeholder beside it in --help."""
    return None if self.is_flag else _option_type(self, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]
try:  # typer's internals as of 0.29; with another release typer coerces as it always did
    from cvis.cli import coercion
except ImportError:
    pass
else:
    coercion.install()


def safe_url(url: str) -> str:
    """A database URL fit to print: the password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: print nothing of it
        return "(the configured database)"


def _refuse_repeats(group: TyperGroup, args: list[str]) -> None:
    """An option that takes one value, given twice, is refused rather than half-applied."""
    node: object = group
    rest = list(args)
    while hasattr(node, "commands"):
        names = [a for a in rest if not a.startswith("-")]
        if not names:
            return
        rest = rest[rest.index(names[0]) + 1:]
        node = node.commands.get(names[0])
        if node is None:
            return  # click says "no such command"
    single = {o: p for p in getattr(node, "params", [])
              if not getattr(p, "multiple", False) and not getattr(p, "count", False)
              for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    seen: dict[object, str] = {}
    for token in rest[:rest.index("--")] if "--" in rest else rest:
        param = single.get(token.split("=", 1)[0])
        if param is None:
            continue
        if param in seen:
            raise typer.BadParameter(f"{seen[param]} given more than once; give it once")
        seen[param] = token.split("=", 1)[0]


class CvisGroup(TyperGroup):
    """Errors any command can meet, said in one line with the one exit-code rule; the
    groups of ``cvis.cli.lazy`` are imported when used, not to list them in --help."""

    _listing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = lazy.LazyCommands(self.commands)

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(self.commands)  # names only: listing imports nothing

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Command | None:
        commands = self.commands
        if self._listing and isinstance(commands, lazy.LazyCommands) and \
                cmd_name in lazy.LAZY and not commands.loaded(cmd_name):
            return lazy.placeholder(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: ClickContext, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        if ctx.parent is None:
            _refuse_repeats(self, args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: ClickContext) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            said = _said(exc)
            if said is None:
                raise
            raise said from None


def _said(exc: Exception) -> typer.Exit | None:
    """The one-line answer to a database or unknown-set error; None for any other. The
    modules that define them are only looked at if the command imported them."""
    sa_errors, sets = sys.modules.get("sqlalchemy.exc"), sys.modules.get("cvis.hashsets.service")
    if sa_errors is not None and isinstance(exc, sa_errors.OperationalError):
        from cvis.config import load_settings

        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        render.error(f"cannot use the database at {safe_url(load_settings().database_url)}: "
                     f"{reason}")
        return typer.Exit(1)
    if sets is not None and isinstance(exc, sets.UnknownSet):
        return fail(exc)
    return None


app = typer.Typer(
    cls=CvisGroup,
    help="cvis: known-image identification for child-protection investigations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        render.stdout().write(f"cvis {cvis.__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """cvis: known-image identification for child-protection investigations."""

db_app = typer.Typer(help="The database: schema upgrades.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("serve", help=SERVE_HELP)(serve_command)

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Workers = Annotated[int, typer.Option(help="Worker processes (0: all cores).", min=0)]
Jsonl = Annotated[Path | None, typer.Option(help="Write JSON lines here instead of stdout.")]


def _sets_option(value: str | None) -> list[str] | None:
    return [s.strip() for s in value.split(",") if s.strip()] if value else None


def _paths(paths: list[Path] | list[str]) -> str:
    return "paths:" + ",".join(str(p) for p in paths)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version."""
    from cvis.store.db import Store, upgrade

    store = Store(auto_upgrade=False)
    upgrade(store.engine)
    render.note(f"database at {safe_url(store.settings.database_url)} is up to date")


@app.command("hash")
def hash_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    jsonl: Jsonl = None,
    workers: Workers = 0,
    quiet: Quiet = False,
) -> None:
    """Hash media: one JSON object per item (md5, sha1, sha256, pdq, quality, error)."""
    from cvis.audit.quick import quick_audited
    from cvis.hashing import HashingLimits
    from cvis.identify.hashpool import available_cores, hash_items
    from cvis.media.folders import iter_media

    render.check_out(jsonl)
    # The output names md5, sha1, sha256 and PDQ only: no keypoints or plug-in signals.
    limits = HashingLimits(picture_signals=frozenset())
    # One small file is hashed here whatever the cores: a worker process would cost more
    # (its start-up, ~0.3 s) than the file.
    workers = workers or (1 if _one_small_file(paths) else available_cores())
    # Audited like every command; on the embedded store without importing the database layer.
    with quick_audited("cli", "hash", _paths(paths)), render.output_stream(
        jsonl
    ) as out, render.progress_bar(
        "hashing", None, render.show_progress(quiet) and jsonl is not None
    ) as advance:
        # One core: hashed here, no worker process to start (it would cost more than it saves).
        for record in hash_items(iter_media(paths), workers, limits, in_process=True):
            render.write_jsonl([record.to_dict()], out)
            advance(1)


# A file up to this size is hashed in the command's own process when it is the only path.
SMALL_FILE_BYTES = 32 * 1024 * 1024


def _one_small_file(paths: list[Path]) -> bool:
    try:
        return len(paths) == 1 and paths[0].is_file() and \
            paths[0].stat().st_size <= SMALL_FILE_BYTES
    except OSError:
        return False


@app.command("scan")
def scan_command(
    case: Annotated[str, typer.Option(help="Case number (created if new).")],
    paths: Annotated[list[str] | None, typer.Argument(
        help="Evidence: files, folders, object-store URIs (s3://bucket/prefix/).",
        show_default=False)] = None,
    from_list: Annotated[str | None, typer.Option(
        "--from-list", metavar="FILE",
        help="Evidence listed in FILE (- for stdin): one path or URI a line; blank lines "
             "and # comments skipped.")] = None,
    sets: Annotated[str | None, typer.Option(help="Comma-separated set names.")] = None,
    workers: Workers = 0,
    jsonl: Jsonl = None,
    resume: Annotated[int | None, typer.Option(help="Resume this scan id.")] = None,
    restart: Annotated[bool, typer.Option(help="Start over, ignoring unfinished scans.")] = False,
    acquired_by: Annotated[str, typer.Option(help="Who acquired the evidence.")] = "",
    time_limit: Annotated[
        float, typer.Option(help="Seconds one item may take to decode.", min=1)
    ] = DEFAULT_TIME_LIMIT,
    max_pixels: Annotated[
        int, typer.Option(help="Larger pictures are decompression bombs.", min=1)
    ] = DEFAULT_MAX_PIXELS,
    max_depth: Annotated[int, typer.Option(help="Archives nested deeper are not opened.")] = 8,
    engine: Annotated[str, typer.Option(
        help="local: worker processes here; spark: Spark's executors (CVIS_SPARK_MASTER)."
    )] = "local",
    quiet: Quiet = False,
) -> None:
    """Hash evidence and match it against the hash sets; results are stored in the case.

    Evidence: files, folders and object-store URIs (read where they are, with the
    credentials of the standard AWS environment), named here or listed in --from-list.
    Running the same scan again resumes it if it was stopped; a finished one is not
    repeated (nothing is added; --restart scans again)."""
    if engine == "local":  # the workers' imports start now, beside this command's
        from cvis.identify.forkserver import start_fork_server

        start_fork_server()
    from cvis.audit import audited
    from cvis.cases.scanning import finished_scan, run_scan
    from cvis.hashing import HashingLimits
    from cvis.hashsets.errors import UnknownSet
    from cvis.identify.scan import ScanRequest, counted_scan_results
    from cvis.identify.spark_engine import SparkUnavailable
    from cvis.media.limits import IntakeLimits
    from cvis.store.db import Store

    render.check_out(jsonl)
    sources, described = _scan_sources(paths or [], from_list)
    store = Store()
    request = ScanRequest(
        case, [s.evidence() for s in sources], _sets_option(sets), workers, restart, resume,
        intake=IntakeLimits(max_depth=max_depth), hashing=HashingLimits(max_pixels=max_pixels),
        time_limit=time_limit, acquired_by=acquired_by, engine=engine,
    )
    try:
        with audited(store, "cli", "scan", f"case:{case} {described}"), render.scan_progress(
            render.show_progress(quiet)
        ) as progress:
            done = finished_scan(store, request)
            if done is not None:
                render.note(f"scan {done} of these paths in case {case} has already finished; "
                            "nothing added (give --restart to scan them again)")
            scan_id = done if done is not None else run_scan(store, request, progress)
    except UnknownSet as exc:
        raise fail(str(exc), USAGE) from None
    except (LookupError, ValueError, SparkUnavailable) as exc:
        raise fail(str(exc)) from None
    with store.session() as session, render.output_stream(jsonl) as out:
        summary, rows = counted_scan_results(session, scan_id)
        render.write_jsonl(rows, out)
    render.scan_summary(summary, jsonl)


def _scan_sources(paths: list[str], from_list: str | None) -> tuple[list[Source], str]:
    """The evidence to scan, every entry checked (exit 2 naming the bad ones, nothing
    scanned), and how the audit record names it (a long list by its file, not entry by entry)."""
    from cvis.media.sources import Source, check_sources, describe_problems, read_list

    sources = [Source(p) for p in paths]
    if from_list is not None:
        try:
            listed = read_list(_read_lines(from_list))
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"cannot read the list {from_list}: {exc}", USAGE) from None
        sources += listed
    if not sources:
        raise fail("no evidence: give files, folders or URIs, or --from-list FILE", USAGE)
    problems = check_sources(sources)
    if problems:
        raise fail(describe_problems(problems), USAGE)
    named = _paths([s.where for s in sources[:len(paths)]]) if paths else ""
    if from_list is not None:
        named += f" list:{from_list} ({len(sources) - len(paths)} entries)"
    return sources, named.strip()


def _read_lines(source: str) -> list[str]:
    if source == "-":
        return sys.stdin.read().splitlines()
    return Path(source).read_text(encoding="utf-8").splitlines()


@app.command("lookup")
def lookup_command(
    source: Annotated[str, typer.Argument(help="File of hashes, one per line, or - for stdin.")],
    sets: Annotated[str | None, typer.Option(help="Comma-separated set names.")] = None,
    signal: Annotated[str | None, typer.Option(help="Signal type, e.g. pdq.")] = None,
    jsonl: Jsonl = None,
) -> None:
    """Look up hashes: one JSON line per query with its matches (a header line is skipped)."""
    from cvis.audit import audited
    from cvis.hashsets.errors import UnknownSet
    from cvis.identify.lookup import lookup_jsonl
    from cvis.identify.matcher import Matcher
    from cvis.signals import get_signal_type
    from cvis.signals.base import InvalidSignalValue
    from cvis.store.db import Store

    render.check_out(jsonl)
    try:
        if signal:
            signal = get_signal_type(signal).name
        lines = sys.stdin if source == "-" else Path(source).open(encoding="utf-8")
    except (InvalidSignalValue, OSError) as exc:
        raise fail(str(exc), USAGE) from None
    lines = _skip_header(iter(lines), signal)
    store = Store()
    # What is imported by now lives to the end: left in the collector, every full collection
    # (triggered by each batch's facts) walks those objects again (~5% of a large lookup).
    gc.freeze()
    # And the lookup itself makes millions of short-lived containers but almost no cycles:
    # at 2 M x 20k the collector ran ~1,800 times, freed ~1,000 objects in all and took ~0.4 s
    # of 8.4 CPU-s (measured with gc.callbacks). The process ends after the lookup.
    gc.disable()
    with audited(store, "cli", "lookup", f"hashes from {source}"), store.session() as session, \
            render.output_stream(jsonl) as out:
        try:
            matcher = Matcher(session, _sets_option(sets), store.settings.index_dir)
        except UnknownSet as exc:
            raise fail(str(exc), USAGE) from None
        with render.bytes_writer(out) as write:
            bad = lookup_jsonl(matcher, lines, signal, write)
    if bad:
        raise fail(f"{bad} line(s) were not valid hashes (see their 'error' field)")


def _skip_header(lines: Iterator[str], signal: str | None) -> Iterator[str]:
    """A first line that names columns (`md5`, `sha256,path`) is said to be a header."""
    from cvis.identify.lookup import looks_like_header

    first = next(lines, None)
    if first is not None:
        if looks_like_header(first, signal):
            render.note(f"line 1 is a header ({first.strip()!r}), not a hash: skipped")
        else:
            yield first
    yield from lines


@app.command("demo")
def demo_command(
    workdir: Annotated[
        Path | None, typer.Option(help="Where to build the benign demo data.")
    ] = None,
    quiet: Quiet = False,
    serve: Annotated[bool, typer.Option(
        help="Then serve the web application on the demo data, with a demo sign-in.")] = False,
) -> None:
    """Run the whole job end to end on benign sample pictures."""
    from cvis.audit import audited
    from cvis.demo import run_demo
    from cvis.store.db import Store

    with audited(Store(), "cli", "demo", "benign demo data"):
        run_demo(workdir, quiet=quiet)
    if serve:
        from cvis.cli.web import serve_demo

        serve_demo()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
