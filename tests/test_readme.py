"""The README's commands, walked in order, so the README stays true (as datasette checks its docs).

Every ```sh block of README.md is read and each command in it is taken in turn:
- a `cvis` command of the local workflow is run, in process, against a temporary
  CVIS_HOME filled with benign generated data, and must exit 0;
- a `cvis` command that needs a server or another machine's data (`serve`, `link`)
  is checked against the command tree: the command exists and every option it
  names is one of its options;
- anything else (`make`, `curl`) is named in ``NOT_RUN`` with the reason.

Each block starts from the same prepared home (a set `national` at version 1 and a
scan with matches), so blocks do not depend on each other, and commands within a
block run in the README's order against the state the earlier ones left.
README placeholders (``/evidence/...``, ``MATCH_ID``, ``--match 17``, ``--item 311``,
``[--version 1]``) are mapped to the generated data below.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from typer.main import get_command
from typer.testing import CliRunner

from cvis.cases.review import review_queue
from cvis.cases.scanning import run_scan
from cvis.cli.app import app
from cvis.config import Settings
from cvis.hashing import hash_item
from cvis.hashsets.formats import get_format
from cvis.hashsets.records import KnownRecord
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest
from cvis.media.folders import file_item
from cvis.store.db import Store
from cvis.store.models import Match
from tests.conftest import sample_image

README = Path(__file__).resolve().parents[1] / "README.md"
# The workflow run for real; other cvis commands (the service's accounts and server,
# linkage, tips, ...) are checked against the command tree only, so their own README
# lines can change without this walk needing their data.
RUN = {"hash", "sets", "scan", "lookup", "case", "review", "report", "evidence", "db"}
NOT_RUN = {
    "make": "builds the environment the test itself runs in",
    "curl": "needs a running server (the API has its own tests)",
}
PASSWORD = "walk-the-readme-with-a-long-passphrase-7401"
BASE_CASE = "README-BASE"


@dataclass
class Command:
    line: int
    argv: list[str]
    stdin_from: list[str] | None = None  # a shell pipeline feeding this command

    def __str__(self) -> str:
        feed = f"{shlex.join(self.stdin_from)} | " if self.stdin_from else ""
        return f"README line {self.line}: {feed}{shlex.join(self.argv)}"


@dataclass
class Block:
    line: int
    commands: list[Command] = field(default_factory=list)
    output: list[str] = field(default_factory=list)  # `$ cmd` blocks: what the README shows


def _logical_lines(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Lines with backslash continuations joined, numbered by their first line."""
    pending, start = "", 0
    for number, text in lines:
        if not pending:
            start = number
        if text.rstrip().endswith("\\"):
            pending += text.rstrip()[:-1] + " "
            continue
        yield start, pending + text
        pending = ""
    if pending:
        yield start, pending


def _commands(number: int, text: str) -> list[Command]:
    text = re.sub(r"\s\[--[^\]]*\]", "", text)  # optional arguments shown in brackets
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";|&")
    lexer.whitespace_split, lexer.commenters = True, "#"
    found: list[Command] = []
    current: list[str] = []
    feed: list[str] | None = None
    for token in [*lexer, ";"]:
        if token == "|":
            feed, current = current, []
        elif token in (";", "&&"):
            if current:
                found.append(Command(number, current, feed))
            current, feed = [], None
        else:
            current.append(token)
    return found


def readme_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    body: list[tuple[int, str]] | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if body is None and line.strip() == "```sh":
            body, start = [], number
        elif body is not None and line.strip() == "```":
            blocks.append(_block(start, body))
            body = None
        elif body is not None:
            body.append((number, line))
    return blocks


def _block(start: int, body: list[tuple[int, str]]) -> Block:
    block = Block(start)
    prompted = any(line.lstrip().startswith("$ ") for _, line in body)
    if prompted:  # a transcript: `$ command` lines, the rest is the output shown
        block.output = [line for _, line in body if not line.lstrip().startswith("$ ")]
        body = [(n, line.lstrip()[2:]) for n, line in body if line.lstrip().startswith("$ ")]
    for number, text in _logical_lines(body):
        block.commands.extend(_commands(number, text))
    return block


# --- the prepared home: benign pictures, a VICS list, evidence in the README's places ---


@dataclass
class Walk:
    work: Path
    base: Path
    pictures: dict[str, Path]


def _record(media_id: str, path: Path, **fields: object) -> KnownRecord:
    r = hash_item(file_item(path))
    signals = {k: v for k, v in (("md5", r.md5), ("sha1", r.sha1), ("pdq", r.pdq)) if v}
    return KnownRecord(media_id=media_id, signals=signals, **fields)  # type: ignore[arg-type]


def _prepare(work: Path) -> Walk:
    pictures: dict[str, Path] = {}
    (work / "photos").mkdir(parents=True)
    for name in ("chelsea", "coffee", "rocket", "astronaut"):
        path = work / "photos" / f"{name}.png"
        sample_image(name).convert("RGB").save(path)
        pictures[name] = path
    shutil.copy(pictures["chelsea"], work / "photos" / "cat.png")
    records = [
        _record("K-CAT", pictures["chelsea"], category=1, series="Series Cat",
                victim_identified=True, extra={"identifying_agency": "Demo VID Unit"}),
        _record("K-ROCKET", pictures["rocket"], category=2, series="Series Rocket",
                victim_identified=False),
    ]
    with (work / "vics-export.json").open("w", encoding="utf-8") as f:
        get_format("vics").write(records, f)
    with (work / "vics-v1.json").open("w", encoding="utf-8") as f:
        get_format("vics").write(records[:1], f)
    evidence = work / "evidence"
    laptop = evidence / "laptop"
    laptop.mkdir(parents=True)
    shutil.copy(pictures["chelsea"], laptop / "IMG_0001.png")
    Image.open(pictures["chelsea"]).convert("RGB").save(laptop / "IMG_0002.jpg", quality=80)
    shutil.copy(pictures["coffee"], laptop / "IMG_0003.png")
    shutil.copy(pictures["astronaut"], laptop / "IMG_0004.png")
    with zipfile.ZipFile(evidence / "phone-01.zip", "w") as archive:
        archive.write(pictures["rocket"], "DCIM/IMG_1.png")
        archive.write(pictures["coffee"], "DCIM/IMG_2.png")
    shutil.copy(evidence / "phone-01.zip", evidence / "laptop.E01")  # scanned by content
    md5s = [hash_item(file_item(pictures[n])).md5 for n in ("chelsea", "coffee")]
    (work / "suspects.csv").write_text(
        "name,md5\n" + "".join(f"{n},{m}\n" for n, m in zip(("a", "b"), md5s, strict=True)))
    (work / "pdq-hashes.txt").write_text(hash_item(file_item(pictures["chelsea"])).pdq + "\n")
    base = work / "base-home"
    store = Store(Settings(home=base, database_url=f"sqlite:///{base / 'cvis.db'}"))
    with store.session() as session:
        import_file(session, work / "vics-v1.json", name="national")
    run_scan(store, ScanRequest(BASE_CASE, [laptop], ["national"], workers=1))
    store.dispose()
    return Walk(work, base, pictures)


# --- running one command ------------------------------------------------------------------


def _store(home: Path) -> Store:
    return Store(Settings(home=home, database_url=f"sqlite:///{home / 'cvis.db'}"))


def _first_match(home: Path, case: str | None) -> str:
    store = _store(home)
    try:
        with store.session() as session:
            if case is None:
                return str(session.scalars(select(Match.id).order_by(Match.id)).first())
            entry = review_queue(session, case)[0]
            return str(entry.matches[0].match_id)
    finally:
        store.dispose()


def _new_picture_item(home: Path, case: str) -> str:
    store = _store(home)
    try:
        with store.session() as session:
            return str(next(e.item_id for e in review_queue(session, case, unmatched=True)
                            if (e.pdq_quality or 0) >= 50))
    finally:
        store.dispose()


def _concrete(argv: list[str], walk: Walk, home: Path) -> list[str]:
    """README placeholders mapped to the prepared data."""
    out: list[str] = []
    for i, token in enumerate(argv):
        previous = argv[i - 1] if i else ""
        for prefix, folder in (("/evidence/", "evidence"), ("/srv/", "srv")):
            if token.startswith(prefix):
                token = str(walk.work / folder / token[len(prefix):])
        if token == "MATCH_ID":
            token = _first_match(home, None)
        elif previous == "--match" and token.isdigit():
            token = _first_match(home, argv[2])
        elif previous == "--item" and token.isdigit():
            token = _new_picture_item(home, argv[2])
        out.append(token)
    return out


def _stdin(command: Command, walk: Walk) -> str | None:
    if command.stdin_from:
        return subprocess.run(command.stdin_from, cwd=walk.work, capture_output=True,
                              text=True, check=True).stdout
    if "--password-stdin" in command.argv:
        return PASSWORD + "\n"
    if command.argv[1:2] == ["review"] and len(command.argv) <= 4:
        return "q\n"  # the interactive review: look at the first item, then quit
    return None


def _check_options(command: Command) -> None:
    """A command not run: it exists, and it knows every option the README gives it."""
    node: Any = get_command(app)
    args = command.argv[1:]
    while hasattr(node, "commands"):  # a group (typer vendors its own click)
        assert args, f"{command}: names a group, not a command"
        found = node.commands.get(args[0])
        assert found is not None, f"{command}: no command {args[0]!r}"
        node, args = found, args[1:]
    known = {o for p in node.params for o in (*p.opts, *p.secondary_opts)}
    for token in args:
        if token.startswith("-") and token != "-":
            assert token.split("=", 1)[0] in known, f"{command}: no option {token}"


def _run(command: Command, walk: Walk, home: Path, runner: CliRunner) -> str:
    if command.argv[0] != "cvis":
        assert command.argv[0] in NOT_RUN, f"{command}: not a cvis command the walk knows"
        return ""
    if command.argv[1] not in RUN:
        _check_options(command)
        return ""
    argv = _concrete(command.argv, walk, home)
    result = runner.invoke(app, argv[1:], input=_stdin(command, walk))
    assert result.exit_code == 0, f"{command} -> exit {result.exit_code}:\n{result.output}"
    return result.stdout


# --- the walk -------------------------------------------------------------------------------


def test_readme_blocks_are_found() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    commands = [c for b in blocks for c in b.commands]
    assert len(blocks) >= 5 and len(commands) >= 20
    assert any(c.stdin_from for c in commands), "the lookup pipeline is read as a pipeline"
    assert all(c.argv for c in commands)


def test_the_readme_commands_work_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk = _prepare(tmp_path / "walk")
    monkeypatch.chdir(walk.work)
    monkeypatch.setenv("CVIS_USER", "j.doe")
    runner = CliRunner()
    ran = 0
    for n, block in enumerate(readme_blocks(README.read_text(encoding="utf-8"))):
        home = tmp_path / f"home-{n}"
        shutil.copytree(walk.base, home)
        monkeypatch.setenv("CVIS_HOME", str(home))
        monkeypatch.setenv("CVIS_DATABASE_URL", f"sqlite:///{home / 'cvis.db'}")
        for command in block.commands:
            stdout = _run(command, walk, home, runner)
            ran += command.argv[0] == "cvis" and command.argv[1] in RUN
            if block.output and stdout:
                _same_fields(block, stdout)
    assert ran >= 20, "the walk runs the README's workflow, not only checks it"


def _same_fields(block: Block, stdout: str) -> None:
    """A transcript's output shows the same fields the command writes."""
    shown = set(re.findall(r'"(\w+)":', "\n".join(block.output)))
    written = set(json.loads(stdout.splitlines()[0]))
    assert shown == written, f"README line {block.line}: shows {shown}, cvis writes {written}"
