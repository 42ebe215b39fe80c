"""`cli/render.py` is the one place the command line prints; one helper says what failed."""

from __future__ import annotations

import re
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "src" / "cvis" / "cli"
# the builtin print, a console's print or status, a console made, a stream written directly
PRINTS = re.compile(r"(?<![\w.])print\(|\.print\(|Console\(|\.status\(|sys\.std(out|err)\.write")
FAILS = re.compile(r"^def _?fail\(", re.M)


def test_only_render_prints() -> None:
    offenders = [f"{path.name}:{n}: {line.strip()}"
                 for path in sorted(CLI.glob("*.py")) if path.name != "render.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if PRINTS.search(line)]
    assert not offenders, "print through cvis.cli.render:\n" + "\n".join(offenders)


def test_one_failure_helper() -> None:
    defined = [path.name for path in sorted(CLI.glob("*.py")) if FAILS.search(path.read_text())]
    assert defined == ["errors.py"], defined
