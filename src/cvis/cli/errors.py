"""One exit-code rule for every command: 0 ok, 1 failed, 2 usage or input error.

A name or id the user typed that does not exist, a value outside its range, an
unknown format, a misspelled column: the command line (or its input) is wrong,
exit 2. A closed case, changed evidence, a malformed record in a list: the
command was understood and could not be carried out, exit 1.
"""

from __future__ import annotations

import typer

from cvis.cli import render

USAGE = 2
FAILED = 1


def input_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean the input was wrong; imported when an error is met, so that a
    light command (--help, hash) does not import the services that define them."""
    from cvis.cases.review import NotInCase
    from cvis.cases.service import UnknownCase
    from cvis.hashsets.feedback import UnknownMatch
    from cvis.hashsets.formats import UnknownFormatError
    from cvis.hashsets.records import ColumnError
    from cvis.hashsets.service import InvalidSetting, UnknownSet, UnknownVersion

    return (UnknownCase, NotInCase, UnknownSet, UnknownVersion, UnknownFormatError,
            ColumnError, InvalidSetting, UnknownMatch)


def exit_code(exc: BaseException) -> int:
    return USAGE if isinstance(exc, input_errors()) else FAILED


def fail(exc: BaseException | str, code: int | None = None) -> typer.Exit:
    """Say what went wrong in one line and pick the exit code from the kind of error."""
    render.error(str(exc))
    if code is None:
        code = FAILED if isinstance(exc, str) else exit_code(exc)
    return typer.Exit(code)
